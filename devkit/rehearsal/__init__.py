"""The canary rehearsal: a release of a candidate version, run locally as CodeDeploy runs it."""
