"""The whole application on loopback, without Docker or an AWS account: ``make start``.

- an embedded AWS endpoint (moto's server) holding the template's tables and queues;
- the REST API on port 3000, routed as template.yaml declares, each request turned into an API
  Gateway proxy event for the real handler, running in a worker process with its own environment;
- the queue trigger, polling as the template's event source mappings say;
- Comprehend and Translate replaced by offline stand-ins (LANGUAGE_SERVICES=offline): the model's
  best guess in Comprehend's place, a catalogue of the default reply in Translate's.
"""
