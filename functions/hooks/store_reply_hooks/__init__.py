"""CodeDeploy traffic hooks: exercise a new version before traffic shifts, and the live alias after."""
