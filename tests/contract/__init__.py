"""Contract suites: one per port, each case run on the in-memory twin and on the AWS adapter under
moto, with the same expected result."""
