"""The pure core: business calendar, policy, ticket events and state, the reducer, views,
notices and signatures. Nothing here imports boto3 or botocore, reads the clock or the
environment: callers pass ``now`` and configuration."""
