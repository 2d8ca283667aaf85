"""Use cases: ingest a delivery, read a ticket, quote a deadline, keep timers in step with a
ticket's state, judge and publish notices, sweep for what was missed. They talk to the outside
world only through the ports (``sla.ports``)."""
