"""sla-keeper's layer: the SLA core and everything the functions share.

The contract's Python API (``load_policy``, ``Policy.deadline``, the calendar) and the reducer
(``reduce_events`` over ``TicketEvent``\\ s, ``sla_view``) are importable from here. The layout, by
role: ``core`` (pure), ``ports``/``fakes``, ``sources``, ``app`` (use cases), ``aws`` (adapters),
``runtime`` (settings, wiring, observability), ``tools`` (the ``sla`` command).
"""

from sla.core.calendar import BusinessCalendar, CalendarConfig
from sla.core.events import Actor, TicketEvent, TicketSnapshot
from sla.core.policy import Classification, Due, Policy, PolicyError, load_policy
from sla.core.state import TicketState, apply_event, reduce_events
from sla.core.terms import Target, Terms
from sla.core.view import SlaView, sla_view

__all__ = [
    "Actor",
    "BusinessCalendar",
    "CalendarConfig",
    "Classification",
    "Due",
    "Policy",
    "PolicyError",
    "SlaView",
    "Target",
    "Terms",
    "TicketEvent",
    "TicketSnapshot",
    "TicketState",
    "apply_event",
    "load_policy",
    "reduce_events",
    "sla_view",
]
