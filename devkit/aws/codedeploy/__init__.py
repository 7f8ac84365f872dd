"""CodeDeploy: the lifecycle hooks' status call."""
