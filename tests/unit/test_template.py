"""The security-relevant parts of template.yaml, asserted on the template itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.template import load_template, resource

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in RESOURCES.items():
        for policy in res.get("Properties", {}).get("Policies", []) or []:
            if isinstance(policy, dict) and "Statement" in policy:
                for statement in policy["Statement"]:
                    yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_or_resources() -> None:
    found = list(statements())
    assert found, "functions carry inline least-privilege statements"
    for name, statement in found:
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: {action}"
        for res in as_list(statement["Resource"]):
            assert res != "*", f"{name}: wildcard resource"


def test_webhook_function_may_touch_only_its_table_and_secret() -> None:
    grants = {s["Sid"]: s for _, s in statements() if _ == "WebhookFunction"}
    assert grants["TicketState"]["Resource"] == {"Fn::GetAtt": ["TicketsTable", "Arn"]}
    assert sorted(as_list(grants["TicketState"]["Action"])) == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    ]
    assert grants["TicketLists"]["Action"] == "dynamodb:Query"
    assert grants["TicketLists"]["Resource"] == [
        {"Fn::Sub": f"${{TicketsTable.Arn}}/index/{name}"}
        for name in ("FirstResponseIndex", "NextReplyIndex", "ResolutionIndex")
    ]
    assert grants["SigningSecret"]["Resource"] == [
        {"Ref": "WebhookSecret"},
        *(
            {"Fn::If": [f"{name}Enabled", {"Ref": f"{name}Secret"}, {"Ref": "AWS::NoValue"}]}
            for name in ("Zendesk", "Jira", "Freshdesk", "Zammad")
        ),
    ]
    assert grants["SigningSecret"]["Action"] == "secretsmanager:GetSecretValue"


def test_a_helpdesk_secret_exists_only_when_its_source_is_enabled() -> None:
    """Each helpdesk's secret is created with its Enable<Name> parameter, generated (never written
    in the template), and handed to the function by ARN, empty when disabled (then 404)."""
    variables = resource("WebhookFunction")["Properties"]["Environment"]["Variables"]
    for name in ("Zendesk", "Jira", "Freshdesk", "Zammad"):
        secret = resource(f"{name}Secret")
        assert secret["Condition"] == f"{name}Enabled"
        assert "SecretString" not in secret["Properties"]
        assert variables[f"SLA_{name.upper()}_SECRET_ARN"] == {
            "Fn::If": [f"{name}Enabled", {"Ref": f"{name}Secret"}, ""]
        }


def test_table_is_durable_and_streams_both_images() -> None:
    table = resource("TicketsTable")
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_signing_secret_is_generated_never_written_in_the_template() -> None:
    props = resource("WebhookSecret")["Properties"]
    assert "SecretString" not in props
    assert props["GenerateSecretString"]["PasswordLength"] >= 32
    env = resource("WebhookFunction")["Properties"]["Environment"]["Variables"]
    assert env["SLA_SECRET_ARN"] == {"Ref": "WebhookSecret"}
    assert "SLA_WEBHOOK_SECRET" not in env
    assert "SLA_WEBHOOK_SECRET" not in str(TEMPLATE["Globals"])


def test_routes_and_their_authorisation() -> None:
    """Every method of a route reaches the function (which answers a wrong one with 405 and
    Allow), and the read routes are IAM-authorised whatever the method."""
    events = resource("WebhookFunction")["Properties"]["Events"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"]): e["Properties"]
        for e in events.values()
    }
    assert set(routes) == {
        ("ANY", "/webhooks/tickets"),
        ("ANY", "/webhooks/{source}"),
        ("ANY", "/tickets/{ticket_id}/sla"),
        ("ANY", "/tickets/sla"),
        ("ANY", "/tickets"),
        ("ANY", "/sla/quote"),
    }
    assert routes[("ANY", "/tickets/{ticket_id}/sla")]["Auth"]["Authorizer"] == "AWS_IAM"
    assert routes[("ANY", "/tickets/sla")]["Auth"]["Authorizer"] == "AWS_IAM"
    assert routes[("ANY", "/tickets")]["Auth"]["Authorizer"] == "AWS_IAM"
    assert "Auth" not in routes[("ANY", "/webhooks/tickets")]  # signed, not IAM
    assert "Auth" not in routes[("ANY", "/webhooks/{source}")]  # as each helpdesk signs
    assert "Auth" not in routes[("ANY", "/sla/quote")]  # public
    assert all(route["ApiId"] == {"Ref": "HttpApi"} for route in routes.values())


def test_the_openapi_document_and_swagger_ui_are_no_routes_on_aws() -> None:
    paths = {
        e["Properties"]["Path"]
        for e in resource("WebhookFunction")["Properties"]["Events"].values()
    }
    assert not {"/openapi.json", "/swagger", "/{proxy+}"} & paths
    assert "SLA_LOCAL" not in str(TEMPLATE)


def test_api_is_throttled_logged_and_cors_only_for_reads() -> None:
    props = resource("HttpApi")["Properties"]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert props["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    assert props["CorsConfiguration"]["AllowMethods"] == ["GET"]
    assert props["Auth"]["EnableIamAuthorizer"] is True


def test_functions_have_reserved_concurrency_tracing_and_log_retention() -> None:
    globals_ = TEMPLATE["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.11"
    # X-Ray is one parameter away: the functions' mode and Powertools' switch follow it together
    assert globals_["Tracing"] == {"Ref": "Tracing"}
    assert TEMPLATE["Parameters"]["Tracing"]["AllowedValues"] == ["Active", "PassThrough"]
    assert globals_["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingOn", "false", "true"]
    }
    assert TEMPLATE["Conditions"]["TracingOn"] == {"Fn::Equals": [{"Ref": "Tracing"}, "Active"]}
    for name, res in RESOURCES.items():
        if res["Type"] == "AWS::Serverless::Function":
            props = res["Properties"]
            assert "ReservedConcurrentExecutions" in props, name
            log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
            assert RESOURCES[log_group]["Properties"]["RetentionInDays"] > 0


def test_layer_is_built_by_sam_from_the_sla_folder() -> None:
    layer = resource("SlaLayer")
    assert layer["Properties"]["ContentUri"] == "layers/sla/"
    assert layer["Metadata"]["BuildMethod"] == "python3.11"


@pytest.mark.parametrize("name", ["BodyLimit", "LogLevel", "PolicyFile"])
def test_operator_parameters(name: str) -> None:
    assert name in TEMPLATE["Parameters"]


def test_every_checkov_skip_has_a_reason() -> None:
    for name, res in RESOURCES.items():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{name}: {skip['id']} needs a reason"


def test_outputs_give_the_webhook_url_and_secret() -> None:
    assert {"WebhookUrl", "WebhookSecretArn"} <= set(TEMPLATE["Outputs"])


def test_scheduler_role_is_trusted_only_by_scheduler_for_this_account() -> None:
    role = resource("SchedulerRole")["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = role["Policies"]
    grants = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(grants) == {"InvokeNotifier", "DeadLetters"}
    assert grants["InvokeNotifier"]["Action"] == "lambda:InvokeFunction"
    assert grants["InvokeNotifier"]["Resource"]["Fn::Sub"].endswith(
        ":function:${AWS::StackName}-notifier"
    )
    assert resource("NotifierFunction")["Properties"]["FunctionName"] == {
        "Fn::Sub": "${AWS::StackName}-notifier"
    }
    assert grants["DeadLetters"] == {
        "Sid": "DeadLetters",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]},
    }


@pytest.mark.parametrize("function", ["NotifierFunction", "TimersFunction", "SweeperFunction"])
def test_schedule_permissions_are_scoped_to_our_group_and_pass_role_to_one_role(
    function: str,
) -> None:
    grants = {s["Sid"]: s for name, s in statements() if name == function}
    assert grants["Timers"]["Resource"]["Fn::Sub"].endswith(":schedule/${ScheduleGroup}/*")
    assert all(a.startswith("scheduler:") and "*" not in a for a in grants["Timers"]["Action"])
    assert grants["PassSchedulerRole"]["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert (
        grants["PassSchedulerRole"]["Condition"]["StringEquals"]["iam:PassedToService"]
        == "scheduler.amazonaws.com"
    )
    assert grants["Publish"]["Resource"] == [
        {"Ref": "NotificationsTopic"},
        {"Ref": "ChatNotificationsTopic"},
    ]


def test_notifier_retries_twice_then_goes_to_its_failure_queue() -> None:
    config = resource("NotifierFunction")["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["NotifierFailureQueue", "Arn"]},
    }


def test_stream_mapping_has_finite_retries_bisection_partial_failures_and_a_destination() -> None:
    mapping = resource("TimersStream")["Properties"]
    assert 0 < mapping["MaximumRetryAttempts"] <= 20
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}
    grants = {s["Sid"]: s for name, s in statements() if name == "TimersFunction"}
    assert grants["ReadStream"]["Resource"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}


def test_topic_and_queues_are_encrypted() -> None:
    for topic in ("NotificationsTopic", "ChatNotificationsTopic"):
        assert resource(topic)["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    for queue in ("SchedulerDeadLetterQueue", "NotifierFailureQueue", "StreamFailureQueue"):
        assert resource(queue)["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("function", ["NotifierFunction", "TimersFunction", "SweeperFunction"])
def test_every_function_that_publishes_knows_both_topics(function: str) -> None:
    variables = resource(function)["Properties"]["Environment"]["Variables"]
    assert variables["SLA_TOPIC_ARN"] == {"Ref": "NotificationsTopic"}
    assert variables["SLA_CHAT_TOPIC_ARN"] == {"Ref": "ChatNotificationsTopic"}


def test_the_chat_topic_is_an_output_for_aws_chatbot() -> None:
    assert TEMPLATE["Outputs"]["ChatNotificationsTopicArn"]["Value"] == {
        "Ref": "ChatNotificationsTopic"
    }


def test_alarms_watch_every_failure_queue_and_the_repairs() -> None:
    watched = set()
    for res in RESOURCES.values():
        if res["Type"] == "AWS::CloudWatch::Alarm":
            props = res["Properties"]
            if props["Namespace"] == "AWS/SQS":
                watched.add(props["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
            else:
                watched.add(props["MetricName"])
    assert watched == {
        "SchedulerDeadLetterQueue",
        "NotifierFailureQueue",
        "StreamFailureQueue",
        "Repairs",
    }


def indexes() -> dict[str, dict[str, Any]]:
    found = resource("TicketsTable")["Properties"]["GlobalSecondaryIndexes"]
    return {index["IndexName"]: index for index in found}


def test_sweeper_index_is_sparse_and_queried_by_arn() -> None:
    index = indexes()["DueIndex"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["due_shard", "due_at"]
    grants = {s["Sid"]: s for name, s in statements() if name == "SweeperFunction"}
    assert grants["DueIndex"]["Resource"] == {"Fn::Sub": "${TicketsTable.Arn}/index/DueIndex"}


def test_each_metric_has_a_sparse_list_index_projecting_what_a_list_answers() -> None:
    """Three list indexes (a ticket is on one list per metric, and an item sits in an index
    once), keyed by list and rank, projecting only what a page shows and filters on, and every
    attribute definition used by some key (CloudFormation refuses an unused one)."""
    expected = {
        "FirstResponseIndex": ("fr", ["plan", "priority"]),
        "NextReplyIndex": ("nr", ["plan", "priority", "nr_cycle"]),
        "ResolutionIndex": ("rs", ["plan", "priority"]),
    }
    found = indexes()
    assert set(found) == {"DueIndex", *expected}
    for name, (prefix, projected) in expected.items():
        index = found[name]
        keys = [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
        assert keys == [(f"{prefix}_list", "HASH"), (f"{prefix}_rank", "RANGE")]
        assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected}
    props = resource("TicketsTable")["Properties"]
    defined = {d["AttributeName"] for d in props["AttributeDefinitions"]}
    used = {k["AttributeName"] for i in found.values() for k in i["KeySchema"]}
    assert defined == used | {k["AttributeName"] for k in props["KeySchema"]}
