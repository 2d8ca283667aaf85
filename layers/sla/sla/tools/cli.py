"""The ``sla`` command: deadlines and business time from the policy, one-off or in bulk.

    sla deadline --plan professional --priority 2 --created-at 2026-11-25T16:30:00Z
    sla deadline --metric next_reply --plan professional --created-at 2026-11-25T16:30:00Z
    sla deadline --jsonl < tickets.jsonl
    sla business-time --from 2026-11-27T15:00:00Z --to 2026-11-30T10:00:00Z
    sla replay --queue-url URL --notifier FUNCTION --sweeper FUNCTION

Exit status: 0 success, 1 a bad input line in ``--jsonl`` mode (or a message ``replay`` could
not replay), 2 bad arguments or policy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import IO, Any, NoReturn

from sla.core.policy import Policy, PolicyError, load_policy
from sla.core.terms import DEFAULT_ENVIRONMENT, DEFAULT_PRODUCT_STAGE, METRICS, MetricName
from sla.tools import report

__all__ = ["format_instant", "main", "parse_instant"]


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with a timezone (``Z`` or an offset)."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"instant without a timezone: {text!r} (add Z or an offset)")
    return value


def format_instant(value: datetime) -> str:
    """UTC, ISO 8601 with ``Z``; microseconds only when there are any."""
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def format_seconds(value: timedelta) -> str:
    micro = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    whole, frac = divmod(abs(micro), 1_000_000)
    sign = "-" if micro < 0 else ""
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:06d}".rstrip("0")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _priority(text: str) -> int | None:
    if text.lower() in ("none", "null", ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a priority: {text!r}") from None


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sla", description="First-response SLA deadlines from the support policy."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    deadline = sub.add_parser("deadline", help="the deadline of a ticket's metric, in UTC")
    deadline.add_argument("--policy", metavar="FILE", help="policy file (default: the shipped one)")
    deadline.add_argument("--jsonl", action="store_true", help="read JSON lines on standard input")
    deadline.add_argument("--plan")
    deadline.add_argument("--priority", type=_priority, default=None)
    deadline.add_argument("--created-at", type=_instant, metavar="INSTANT")
    deadline.add_argument("--environment", default=DEFAULT_ENVIRONMENT)
    deadline.add_argument("--product-stage", default=DEFAULT_PRODUCT_STAGE)
    deadline.add_argument(
        "--metric",
        choices=METRICS,
        default="first_response",
        help="the metric (default first_response); its clock starts at --created-at (for "
        "next_reply: the customer's message) and is never paused; in --jsonl mode a line's "
        '"metric" wins',
    )

    between = sub.add_parser("business-time", help="business seconds in [FROM, TO)")
    between.add_argument("--policy", metavar="FILE", help="policy file (default: the shipped one)")
    between.add_argument("--from", dest="start", type=_instant, required=True, metavar="INSTANT")
    between.add_argument("--to", dest="end", type=_instant, required=True, metavar="INSTANT")
    replay = sub.add_parser("replay", help="replay a dead-letter queue or failure destination")
    replay.add_argument("--queue-url", required=True)
    replay.add_argument("--notifier", required=True, help="notifier function name or ARN")
    replay.add_argument("--sweeper", required=True, help="sweeper function name or ARN")
    replay.add_argument("--region", default=None)
    backfill = sub.add_parser(
        "backfill", help="post canonical events from JSON lines to a running API, signed"
    )
    backfill.add_argument("--url", required=True, help="the API's base URL")
    backfill.add_argument(
        "--secret", required=True, help="the Standard Webhooks secret (whsec_...)"
    )
    backfill.add_argument("--file", default="-", help="JSON lines (default: standard input)")
    report.add_parser(sub)
    return parser


def _backfill(args: argparse.Namespace) -> int:
    from sla.tools.backfill import backfill

    try:
        if args.file == "-":
            return backfill(sys.stdin, args.url, args.secret, sys.stdout)
        with open(args.file, encoding="utf-8") as lines:
            return backfill(lines, args.url, args.secret, sys.stdout)
    except (OSError, ValueError) as exc:  # an unreadable file, a malformed secret
        print(f"sla backfill: error: {exc}", file=sys.stderr)
        return 2


def _replay(args: argparse.Namespace) -> int:
    from sla.aws.clients import client  # only this subcommand talks to AWS
    from sla.tools.replay import Replayer, lambda_invoker

    region = {"region_name": args.region} if args.region else {}
    replayer = Replayer(
        client("sqs", **region),
        lambda_invoker(client("lambda", **region)),
        args.notifier,
        args.sweeper,
    )
    report = replayer.replay(args.queue_url)
    print(
        json.dumps({"replayed": report.replayed, "sweeps": report.sweeps, "failed": report.failed})
    )
    return 1 if report.failed else 0


def _deadline_one(policy: Policy, args: argparse.Namespace) -> int:
    if args.plan is None or args.created_at is None:
        print(
            "sla deadline: error: --plan and --created-at are required (or --jsonl)",
            file=sys.stderr,
        )
        return 2
    try:
        result = policy.deadline(
            args.created_at,
            plan=args.plan,
            priority=args.priority,
            environment=args.environment,
            product_stage=args.product_stage,
            metric=policy.check_metric(args.metric),
        )
    except ValueError as exc:
        print(f"sla deadline: error: {exc}", file=sys.stderr)
        return 2
    print("none" if result is None else format_instant(result))
    return 0


def _deadline_line(policy: Policy, line: str, metric: MetricName) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from None
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    for field in ("created_at", "plan"):
        if field not in record:
            raise ValueError(f"{field}: required")
    for field in ("created_at", "plan", "environment", "product_stage", "metric"):
        if field in record and not isinstance(record[field], str):
            raise ValueError(f"{field}: expected a string")
    if "metric" in record:
        try:
            metric = policy.check_metric(record["metric"])
        except ValueError as exc:
            raise ValueError(f"metric: {exc}") from None
    priority = record.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        raise ValueError("priority: expected an integer or null")
    try:
        created_at = parse_instant(record["created_at"])
    except ValueError as exc:
        raise ValueError(f"created_at: {exc}") from None
    result = policy.deadline(
        created_at,
        plan=record["plan"],
        priority=priority,
        environment=record.get("environment") or DEFAULT_ENVIRONMENT,
        product_stage=record.get("product_stage") or DEFAULT_PRODUCT_STAGE,
        metric=metric,
    )
    record["deadline"] = None if result is None else format_instant(result)
    return record


def _deadline_jsonl(
    policy: Policy, stdin: IO[str], stdout: IO[str], metric: str = "first_response"
) -> int:
    """Each line back with its deadline (``metric`` for lines that name none); a metric the
    policy does not define is a usage error before any line is read."""
    try:
        default = policy.check_metric(metric)
    except ValueError as exc:
        print(f"sla deadline: error: {exc}", file=sys.stderr)
        return 2
    status = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            out = _deadline_line(policy, line, default)
        except ValueError as exc:
            out = {"line": number, "error": str(exc)}
            status = 1
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "replay":
        return _replay(args)
    if args.command == "backfill":
        return _backfill(args)
    if args.command == "report":
        return report.run(args)
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(f"sla: {exc}", file=sys.stderr)
        return 2
    if args.command == "business-time":
        try:
            seconds = policy.calendar.business_time_between(args.start, args.end)
        except ValueError as exc:
            print(f"sla business-time: error: {exc}", file=sys.stderr)
            return 2
        print(format_seconds(seconds))
        return 0
    if args.jsonl:
        return _deadline_jsonl(policy, sys.stdin, sys.stdout, args.metric)
    return _deadline_one(policy, args)


if __name__ == "__main__":
    sys.exit(main())
