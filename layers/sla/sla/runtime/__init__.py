"""What a Lambda function needs around the use cases: settings from the environment, wiring of
adapters to use cases, logging, metrics and tracing, and the problem-document table."""
