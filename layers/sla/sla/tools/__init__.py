"""The ``sla`` command line and the dead-letter replay."""
