"""The function runtime: each function of the template in a worker process, with injected faults."""
