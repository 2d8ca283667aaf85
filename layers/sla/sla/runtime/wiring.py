"""Builds each function's collaborators from its validated environment, once per cold start.

Nothing here runs at import: the first request pays for it, and tests clear the cache to build
again with another environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING

from sla.app.api import WebhookService
from sla.aws.store import DynamoTicketStore
from sla.core.errors import ConfigurationError
from sla.core.policy import Policy, load_policy
from sla.runtime.settings import WebhookSettings
from sla.sources import Source
from sla.sources.canonical import StandardWebhooksSource
from sla.sources.mapping import MappingError, SourceMapping, load_mappings

if TYPE_CHECKING:  # the webhook function never loads the notifier's modules (cold start)
    from sla.app.notifier import NotifierService
    from sla.app.sweeper import Sweeper
    from sla.app.timersync import TimerSync
    from sla.aws.scheduler import SchedulerTimers
    from sla.ports import SecretSource

__all__ = [
    "notifier_service",
    "notifier_store",
    "reset",
    "sweeper",
    "timer_sync",
    "webhook_service",
]


@cache
def webhook_service() -> WebhookService:
    settings = WebhookSettings.from_env(os.environ)
    secrets: SecretSource
    if settings.secret_arn:
        from sla.aws.secrets import SecretsManagerSecrets

        secrets = SecretsManagerSecrets(settings.secret_arn, max_age=settings.secret_max_age)
    else:
        from sla.fakes import StaticSecrets

        assert settings.webhook_secret is not None
        secrets = StaticSecrets(settings.webhook_secret)
    loaded = load_policy(settings.policy_file)
    sources: dict[str, Source | Callable[[], Source]] = {
        "tickets": StandardWebhooksSource(loaded, secrets)
    }
    if settings.helpdesks:
        try:  # checked at start, with a clear error
            mappings = load_mappings(settings.mapping_file)
        except MappingError as exc:
            raise ConfigurationError(str(exc)) from None
        for name, (kind, value) in settings.helpdesks.items():
            sources[name] = partial(
                _helpdesk, name, loaded, kind, value, mappings.get(name), settings
            )
    return WebhookService(
        policy=loaded,
        store=DynamoTicketStore(settings.table_name, loaded),
        sources=sources,
        body_limit=settings.body_limit,
    )


def _helpdesk(
    name: str,
    policy: Policy,
    kind: str,
    value: str,
    mapping: SourceMapping | None,
    settings: WebhookSettings,
) -> Source:
    """A helpdesk source, built when its first delivery arrives."""
    from sla.core.signature import parse_text_secrets
    from sla.sources.registry import helpdesk_source

    secrets: SecretSource
    if kind == "arn":
        from sla.aws.secrets import SecretsManagerSecrets

        secrets = SecretsManagerSecrets(
            value, max_age=settings.secret_max_age, parse=parse_text_secrets
        )
    else:
        from sla.fakes import StaticSecrets

        secrets = StaticSecrets(value, parse=parse_text_secrets)
    return helpdesk_source(name, policy, secrets, mapping or SourceMapping())


@cache
def _timers() -> SchedulerTimers:
    from sla.aws.scheduler import SchedulerTarget, SchedulerTimers
    from sla.runtime.settings import NotifierSettings

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
def notifier_store() -> DynamoTicketStore:
    """The store of the timers, notifier and sweeper functions (and its stream images)."""
    from sla.runtime.settings import NotifierSettings

    settings = NotifierSettings.from_env(os.environ)
    return DynamoTicketStore(settings.table_name, load_policy(settings.policy_file))


@cache
def notifier_service() -> NotifierService:
    from zoneinfo import ZoneInfo

    from sla.app.notifier import NotifierService
    from sla.aws.sns import SnsPublisher
    from sla.runtime.settings import NotifierSettings

    settings = NotifierSettings.from_env(os.environ)
    store = notifier_store()
    publisher = SnsPublisher(
        settings.topic_arn,
        zone=ZoneInfo(store.policy.config.calendar.timezone),
        chat_topic_arn=settings.chat_topic_arn,
    )
    return NotifierService(
        store=store, publisher=publisher, timers=_timers(), calendar=store.policy.calendar
    )


@cache
def timer_sync() -> TimerSync:
    from sla.app.timersync import TimerSync

    return TimerSync(notifier_service(), _timers())


@cache
def sweeper() -> Sweeper:
    from sla.app.sweeper import Sweeper

    notifier = notifier_service()
    return Sweeper(notifier.store, notifier, _timers())


def reset() -> None:
    """Forget everything built (tests build again with another environment)."""
    for built in (
        webhook_service,
        notifier_store,
        _timers,
        notifier_service,
        timer_sync,
        sweeper,
    ):
        built.cache_clear()
