"""AWS implementations of the domain's ports. Each takes its boto3 client as an argument."""
