"""Builds each function's collaborators from its validated environment, once per cold start.

Nothing here runs at import: the first request pays for it, and tests clear the cache to build
again with another environment.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from sla.policy import load_policy
from sla.secrets import SecretsManagerSecrets, SecretSource, StaticSecrets
from sla.service import WebhookService
from sla.settings import WebhookSettings
from sla.store import DynamoTicketStore

if TYPE_CHECKING:  # the webhook function never loads the notifier's modules (cold start)
    from sla.notifier import NotifierService
    from sla.timers import SchedulerTimers
    from sla.timersync import Sweeper, TimerSync

__all__ = ["notifier_service", "reset", "sweeper", "timer_sync", "webhook_service"]


@cache
def webhook_service() -> WebhookService:
    settings = WebhookSettings.from_env(os.environ)
    secrets: SecretSource
    if settings.secret_arn:
        secrets = SecretsManagerSecrets(settings.secret_arn, max_age=settings.secret_max_age)
    else:
        assert settings.webhook_secret is not None
        secrets = StaticSecrets(settings.webhook_secret)
    return WebhookService(
        policy=load_policy(settings.policy_file),
        store=DynamoTicketStore(settings.table_name),
        secrets=secrets,
        body_limit=settings.body_limit,
    )


@cache
def _timers() -> SchedulerTimers:
    from sla.settings import NotifierSettings
    from sla.timers import SchedulerTarget, SchedulerTimers

    settings = NotifierSettings.from_env(os.environ)
    return SchedulerTimers(
        SchedulerTarget(
            group=settings.schedule_group,
            target_arn=settings.notifier_arn,
            role_arn=settings.scheduler_role_arn,
            dead_letter_arn=settings.scheduler_dlq_arn,
        )
    )


@cache
def notifier_service() -> NotifierService:
    from sla.notifier import NotifierService
    from sla.publisher import SnsPublisher
    from sla.settings import NotifierSettings

    settings = NotifierSettings.from_env(os.environ)
    return NotifierService(
        policy=load_policy(settings.policy_file),
        store=DynamoTicketStore(settings.table_name),
        publisher=SnsPublisher(settings.topic_arn),
        timers=_timers(),
    )


@cache
def timer_sync() -> TimerSync:
    from sla.timersync import TimerSync

    return TimerSync(notifier_service(), _timers())


@cache
def sweeper() -> Sweeper:
    from sla.timersync import Sweeper

    notifier = notifier_service()
    return Sweeper(notifier.store, notifier, _timers())


def reset() -> None:
    """Forget everything built (tests build again with another environment)."""
    for built in (webhook_service, _timers, notifier_service, timer_sync, sweeper):
        built.cache_clear()
