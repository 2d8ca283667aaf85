"""One adapter per AWS service behind the ports, one client factory, and one place that turns
botocore errors into ours. boto3 and botocore are imported nowhere else."""
