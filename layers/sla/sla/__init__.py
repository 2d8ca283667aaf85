"""First-response SLA core: business calendar, policy, ticket state.

Pure: no AWS, no clock reads.
"""

from sla.calendar import BusinessCalendar, CalendarConfig
from sla.policy import Classification, Due, Policy, PolicyError, Target, load_policy

__all__ = [
    "BusinessCalendar",
    "CalendarConfig",
    "Classification",
    "Due",
    "Policy",
    "PolicyError",
    "Target",
    "load_policy",
]
