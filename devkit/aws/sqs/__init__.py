"""SQS: the events Lambda's queue mapping sends."""
