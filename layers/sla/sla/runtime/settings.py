"""The functions' environment as a model, validated once per cold start, read by handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sla.core.errors import ConfigurationError
from sla.sources.registry import HELPDESKS

__all__ = ["NotifierSettings", "WebhookSettings"]

_S = TypeVar("_S", bound=BaseModel)


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="SLA_TABLE_NAME", min_length=3)
    secret_arn: str | None = Field(default=None, alias="SLA_SECRET_ARN")
    # Local stack and tests only; on AWS the secret comes from Secrets Manager.
    webhook_secret: str | None = Field(default=None, alias="SLA_WEBHOOK_SECRET", repr=False)
    policy_file: str | None = Field(default=None, alias="SLA_POLICY_FILE")
    body_limit: int = Field(default=256 * 1024, alias="SLA_BODY_LIMIT", ge=1024, le=6 * 1024 * 1024)
    secret_max_age: int = Field(default=300, alias="SLA_SECRET_MAX_AGE", ge=0, le=3600)
    mapping_file: str | None = Field(default=None, alias="SLA_MAPPING_FILE")
    # helpdesk sources: name -> ("arn", the secret's ARN) on AWS, ("text", the secret) locally
    helpdesks: dict[str, tuple[Literal["arn", "text"], str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_secret_source(self) -> WebhookSettings:
        if not self.secret_arn and not self.webhook_secret:
            raise ValueError("set SLA_SECRET_ARN (on AWS) or SLA_WEBHOOK_SECRET (locally)")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WebhookSettings:
        """The settings; a helpdesk source is enabled by its secret: ``SLA_<SOURCE>_SECRET_ARN``
        on AWS, ``SLA_<SOURCE>_SECRET`` locally (the secret as the helpdesk shows it)."""
        helpdesks: dict[str, tuple[Literal["arn", "text"], str]] = {}
        for name in HELPDESKS:
            arn = env.get(f"SLA_{name.upper()}_SECRET_ARN", "")
            text = env.get(f"SLA_{name.upper()}_SECRET", "")
            if arn:
                helpdesks[name] = ("arn", arn)
            elif text:
                helpdesks[name] = ("text", text)
        settings = _from_env(cls, env)
        return settings.model_copy(update={"helpdesks": helpdesks})


class NotifierSettings(BaseModel):
    """The timers, notifier and sweeper functions share one environment."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="SLA_TABLE_NAME", min_length=3)
    topic_arn: str = Field(alias="SLA_TOPIC_ARN", min_length=20)
    # AWS Chatbot's topic (custom notifications for Slack and Teams); none: no chat messages
    chat_topic_arn: str | None = Field(default=None, alias="SLA_CHAT_TOPIC_ARN", min_length=20)
    schedule_group: str = Field(alias="SLA_SCHEDULE_GROUP", min_length=1)
    notifier_arn: str = Field(alias="SLA_NOTIFIER_ARN", min_length=20)
    scheduler_role_arn: str = Field(alias="SLA_SCHEDULER_ROLE_ARN", min_length=20)
    scheduler_dlq_arn: str = Field(alias="SLA_SCHEDULER_DLQ_ARN", min_length=20)
    policy_file: str | None = Field(default=None, alias="SLA_POLICY_FILE")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NotifierSettings:
        return _from_env(cls, env)


def _from_env(cls: type[_S], env: Mapping[str, str]) -> _S:
    cleaned = {k: v for k, v in env.items() if k.startswith("SLA_") and v != ""}
    try:
        return cls.model_validate(cleaned)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'environment'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"invalid environment: {problems}") from None
