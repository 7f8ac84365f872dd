"""Release tooling: packaging with version digests and pins, stack recovery, IAM evaluation."""
