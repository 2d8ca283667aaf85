"""The local stack's HTTP server over real sockets: what API Gateway (HTTP API) does in front of
the webhook function. CORS as the template declares it (preflights answered by the API, the
configured headers on every answer to a page of another origin, checked in a real browser too);
refusals of what never reaches a function (malformed request lines and lengths, bodies over the
payload limit) as problem documents; chunked bodies; keep-alive and pipelining; a crashing
handler answered as API Gateway answers it."""

from __future__ import annotations

import http.client
import io
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.server import Cors, LocalServer
from local.signing import signature_headers
from local.template import load_template
from tests.e2e.conftest import running_stack

ROOT = Path(__file__).resolve().parents[2]
QUOTE = "/sla/quote?plan=professional&priority=1&at=2026-11-27T15:30:00Z"
CORS = load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


def _answer(response: http.client.HTTPResponse) -> Answer:
    body = response.read()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


@dataclass
class Stack:
    url: str
    secret: str
    output: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def signed_ticket(self, ticket_id: str) -> tuple[bytes, dict[str, str]]:
        """A signed ``ticket.created`` for a new ticket, at the stack's clock."""
        with urllib.request.urlopen(self.url + "/_local/clock", timeout=30) as response:
            now = json.loads(response.read())["now"]
        body = json.dumps(
            {
                "type": "ticket.created",
                "occurred_at": now,
                "ticket": {"id": ticket_id, "created_at": now, "plan": "professional"},
            }
        ).encode()
        timestamp = int(datetime.fromisoformat(now).timestamp())
        return body, signature_headers(body, timestamp, secret=self.secret)

    def request(self, method: str, target: str, **kwargs: Any) -> Answer:
        connection = self.connection()
        connection.request(method, target, **kwargs)
        answer = _answer(connection.getresponse())
        connection.close()
        return answer

    def raw(self, request: bytes) -> Answer:
        """Send bytes as they are and read one answer (a server that hangs fails the test)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(request)
            response = http.client.HTTPResponse(sock)
            response.begin()
            return _answer(response)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``python -m local.run`` in its own process, as ``make run`` starts it; nothing the server
    was sent may make it fail."""
    with running_stack(tmp_path_factory.mktemp("server")) as running:
        yield Stack(running.url, running.secret, running.output)


def _problem(answer: Answer, status: int) -> dict[str, Any]:
    """The RFC 9457 document of a refusal with this status."""
    assert (answer.status, answer.headers["content-type"]) == (status, "application/problem+json")
    document: dict[str, Any] = json.loads(answer.body)
    assert document.keys() >= PROBLEM_FIELDS
    assert document["status"] == status
    return document


def _cors_headers(answer: Answer) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.startswith("access-control-")}


# -- CORS, as the template declares it -------------------------------------------------------


def test_a_preflight_for_an_allowed_method_is_answered_by_the_api_as_the_template_declares(
    stack: Stack,
) -> None:
    # Given a page of another origin about to GET a quote (the template allows every origin)
    assert CORS["AllowOrigins"] == ["*"]
    # When the browser asks first
    answer = stack.request(
        "OPTIONS",
        QUOTE,
        headers={
            "Origin": "http://127.0.0.1:1",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    # Then the API answers it with the configured CORS headers, without asking the handler
    assert answer.status == 204
    assert _cors_headers(answer) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": ",".join(CORS["AllowMethods"]),
        "access-control-allow-headers": ",".join(CORS["AllowHeaders"]),
        "access-control-max-age": str(CORS["MaxAge"]),
    }


def test_a_preflight_for_a_method_the_template_does_not_allow_gets_no_cors_headers(
    stack: Stack,
) -> None:
    assert "POST" not in CORS["AllowMethods"]
    answer = stack.request(
        "OPTIONS",
        "/webhooks/tickets",
        headers={"Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "POST"},
    )
    # answered by the API all the same, but nothing in it lets the browser go on
    assert (answer.status, _cors_headers(answer)) == (204, {})


@pytest.mark.parametrize("target", [QUOTE, "/tickets/none-such/sla"], ids=["quote", "404"])
def test_every_answer_to_a_request_with_an_origin_allows_that_origin(
    stack: Stack, target: str
) -> None:
    answer = stack.request("GET", target, headers={"Origin": "http://127.0.0.1:1"})
    assert _cors_headers(answer) == {"access-control-allow-origin": "*"}


def test_an_answer_to_a_request_without_an_origin_has_no_cors_headers(stack: Stack) -> None:
    answer = stack.request("GET", QUOTE)
    assert (answer.status, _cors_headers(answer)) == (200, {})


def _cors(**config: Any) -> Cors:
    api = {"Type": "AWS::Serverless::HttpApi", "Properties": {"CorsConfiguration": config}}
    found = Cors.from_template({"Resources": {"Api": api}})
    assert found is not None
    return found


def test_only_listed_origins_and_methods_get_cors_headers() -> None:
    cors = _cors(AllowOrigins=["https://desk.example", "http://*"], AllowMethods=["GET"])
    allowed = ("Access-Control-Allow-Origin", "https://desk.example")
    assert cors.preflight("https://desk.example", "GET")[0] == allowed
    assert cors.actual("https://desk.example") == [allowed]
    assert cors.actual("http://any.example") == [
        ("Access-Control-Allow-Origin", "http://any.example")
    ]
    assert cors.preflight("https://other.example", "GET") == []
    assert cors.actual("https://other.example") == []
    assert cors.preflight("https://desk.example", "DELETE") == []


# -- methods API Gateway passes on -----------------------------------------------------------


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "TRACE"])
def test_other_methods_reach_the_handler_and_get_its_answer(stack: Stack, method: str) -> None:
    # Given a method no route takes (an OPTIONS without Origin is no preflight)
    answer = stack.request(method, "/no/such/route")
    # Then the handler answers it: its not-found problem (without the body for HEAD)
    assert (answer.status, answer.headers["content-type"]) == (404, "application/problem+json")
    if method == "HEAD":
        assert answer.body == b""
        assert int(answer.headers["content-length"]) > 0
    else:
        assert json.loads(answer.body)["type"] == "urn:sla-keeper:problem:not-found"


# -- what the server refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    "length_headers",
    [
        b"Content-Length: abc\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 5, 7\r\n",
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
    ],
    ids=["not-a-number", "negative", "two-lengths", "length-and-chunked"],
)
def test_a_malformed_body_length_is_a_400_problem(stack: Stack, length_headers: bytes) -> None:
    answer = stack.raw(
        b"POST /webhooks/tickets HTTP/1.1\r\nHost: local\r\n"
        + length_headers
        + b"Content-Type: application/json\r\n\r\n{}"
    )
    _problem(answer, 400)
    assert answer.headers["connection"] == "close"  # where the next request starts is unknown


@pytest.mark.parametrize(
    "line", [b"GET /canary extra words HTTP/1.1", b"CANARY", b"GET /canary HTTP/one"]
)
def test_a_malformed_request_line_is_a_400_problem_that_does_not_quote_it(
    stack: Stack, line: bytes
) -> None:
    answer = stack.raw(line + b"\r\nHost: local\r\n\r\n")
    _problem(answer, 400)
    assert b"canary" not in answer.body.lower()


def test_a_malformed_chunked_body_is_a_400_problem(stack: Stack) -> None:
    answer = stack.raw(
        b"POST /webhooks/tickets HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    _problem(answer, 400)


def test_a_body_over_the_payload_limit_is_a_413_problem(stack: Stack) -> None:
    # Given a body of 7 MiB, over Lambda's 6 MB, sent whole before the answer is read
    body = b"x" * (7 * 1024 * 1024)
    answer = stack.request(
        "POST", "/webhooks/tickets", body=body, headers={"Content-Type": "application/json"}
    )
    # Then the server refuses it with a problem document, which the client gets to read
    document = _problem(answer, 413)
    assert document["type"] == "urn:sla-keeper:problem:payload-too-large"


def test_a_chunked_body_over_the_payload_limit_is_a_413_problem(stack: Stack) -> None:
    chunks = (b"x" * (1024 * 1024) for _ in range(7))  # an iterable body is sent chunked
    _problem(stack.request("POST", "/webhooks/tickets", body=chunks), 413)


# -- bodies, connections ---------------------------------------------------------------------


def test_a_chunked_body_is_read_and_passed_on(stack: Stack) -> None:
    # Given a signed webhook sent in chunks, as API Gateway accepts it
    body, headers = stack.signed_ticket("S-chunked")
    answer = stack.request(
        "POST", "/webhooks/tickets", body=iter([body[:10], body[10:]]), headers=headers
    )
    # Then the handler gets the whole body, and its signature verifies
    assert (answer.status, json.loads(answer.body)["ticket_id"]) == (200, "S-chunked")


def test_twenty_requests_in_a_row_share_one_kept_alive_connection(stack: Stack) -> None:
    connection = stack.connection()
    connection.connect()
    first = connection.sock
    answers = []
    for number in range(20):
        body, headers = stack.signed_ticket(f"S-alive-{number}")
        connection.request("POST", "/webhooks/tickets", body=body, headers=headers)
        answer = _answer(connection.getresponse())
        answers.append((answer.status, answer.headers.get("connection")))
        assert connection.sock is first, "the server kept the connection open"
    assert answers == [(200, None)] * 20


def test_twenty_clients_on_kept_alive_connections_see_no_errors(stack: Stack) -> None:
    statuses: list[int] = []
    errors: list[str] = []

    def client(number: int) -> None:
        connection = stack.connection()
        for request in range(5):
            try:
                body, headers = stack.signed_ticket(f"S-many-{number}-{request}")
                connection.request("POST", "/webhooks/tickets", body=body, headers=headers)
                statuses.append(_answer(connection.getresponse()).status)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (errors, statuses) == ([], [200] * 100)


class _KeepOpen(io.BufferedReader):
    """One reader for several answers on one socket (http.client closes its reader after each)."""

    def close(self) -> None:
        return


def test_twenty_pipelined_requests_get_twenty_answers_in_order(stack: Stack) -> None:
    # Given 20 signed webhooks written at once, before any answer is read
    requests = b""
    for number in range(20):
        body, headers = stack.signed_ticket(f"S-pipe-{number}")
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        requests += (
            f"POST /webhooks/tickets HTTP/1.1\r\nHost: local\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
    sock = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    sock.sendall(requests)
    reader = _KeepOpen(socket.SocketIO(sock, "rb"))
    # Then each is answered, in order, on the same connection
    tickets = []
    for _ in range(20):
        response = http.client.HTTPResponse(sock)
        response.fp = reader
        response.begin()
        tickets.append((response.status, json.loads(response.read())["ticket_id"]))
    sock.close()
    assert tickets == [(200, f"S-pipe-{n}") for n in range(20)]


# -- failures --------------------------------------------------------------------------------


@dataclass
class _Clock:
    def now(self) -> datetime:
        return datetime(2026, 11, 25, 9, tzinfo=UTC)

    def advance(self, delta: timedelta) -> datetime:
        return self.now() + delta


@dataclass
class _FailingStack:
    """A stack whose handler and local listing raise."""

    clock: _Clock = field(default_factory=_Clock)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def echo(self) -> Callable[[str], None]:
        return self.lines.append

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        raise RuntimeError("the handler crashed")

    def pump(self, wait: float | None = None) -> bool:
        return True

    def schedules(self) -> list[dict[str, Any]]:
        raise KeyError("the listing failed")

    def report(self, start: str | None = None, end: str | None = None) -> str:
        raise KeyError("the report failed")


@pytest.mark.parametrize("target", [QUOTE, "/_local/schedules", "/_local/report"])
def test_a_crash_answers_500_as_api_gateway_does_and_is_echoed(target: str) -> None:
    stack = _FailingStack()
    server = LocalServer(stack).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", target)
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (
            500,
            {"message": "Internal Server Error"},
        )
    finally:
        server.stop()
    assert len(stack.lines) == 1
    assert stack.lines[0].startswith(f"[local] GET {target}: ")


# -- CORS in a real browser ------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
PAGE = """<!doctype html>
<p id="quote">pending</p>
<script>
fetch("{api}{quote}")
  .then(response => response.json())
  .then(quote => {{ document.getElementById("quote").textContent = "deadline " + quote.deadline; }})
  .catch(error => {{ document.getElementById("quote").textContent = "failed: " + error.name; }});
</script>
"""


def _serve(respond: Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]) -> str:
    """An HTTP server of its own on another port (another origin); its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = respond(self)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def _page(api: str) -> str:
    html = PAGE.format(api=api, quote=QUOTE).encode()
    return _serve(lambda _: (200, {"Content-Type": "text/html"}, html)) + "/"


def _without_cors(api: str) -> str:
    """A proxy to the API that strips every CORS header from its answers."""

    def forward(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        with urllib.request.urlopen(api + request.path, timeout=30) as response:
            return (
                response.status,
                {"Content-Type": response.getheader("Content-Type")},
                (response.read()),
            )

    return _serve(forward)


def _rendered(url: str) -> str:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian package `chromium`)")
def test_a_page_of_another_origin_shows_the_quote_in_a_real_browser(stack: Stack) -> None:
    with urllib.request.urlopen(stack.url + QUOTE, timeout=30) as response:
        deadline = json.loads(response.read())["deadline"]
    # Given a page served from another port, whose script fetches the quote from the stack
    # When headless Chromium loads it
    dom = _rendered(_page(stack.url))
    # Then the browser let the script read the answer
    assert f'<p id="quote">deadline {deadline}</p>' in dom


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian package `chromium`)")
def test_without_the_cors_headers_the_browser_keeps_the_quote_from_the_page(
    stack: Stack,
) -> None:
    # the same page and answer, through a proxy that strips the CORS headers: what the test
    # above checks is the browser's doing, not the page's
    dom = _rendered(_page(_without_cors(stack.url)))
    assert '<p id="quote">failed: TypeError</p>' in dom
