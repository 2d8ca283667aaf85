"""The local stack's HTTP front door: what API Gateway (HTTP API) does in front of the webhook
function, on werkzeug's threaded server.

* Each request becomes an HTTP API payload v2 event for the real webhook handler, whose answer
  goes back unchanged (repeated query parameters comma-joined, as HTTP API passes them).
* CORS as ``template.yaml`` declares it for the API (``CorsConfiguration``): a preflight is
  answered here, the way API Gateway answers it without a route; every other answer to a request
  with an ``Origin`` gets the configured headers, as API Gateway adds them.
* What API Gateway refuses before a function runs is refused here, as problem documents: a
  malformed request line or header block, a missing or malformed body length, a body over the
  payload limit. Request bodies may be chunked.
* A handler that raises is answered as API Gateway answers a failed integration (500,
  ``{"message":"Internal Server Error"}``) and echoed to the stack's output.
* The local-only routes under ``/_local/``: notifications, the clock, the live schedules, the
  SLA report of the stack's tickets.

Connections stay open between requests (HTTP/1.1 keep-alive, pipelining included). The server
knows HTTP and the stack object (:class:`Stack`), nothing of the product.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from io import BytesIO
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.serving import DechunkedInput, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from local.signing import api_gateway_path, http_api_event
from local.template import load_template

# Lambda's payload limit for a synchronous invocation (6 MB), the lower of the two limits a
# request meets on AWS (an HTTP API itself takes up to 10 MB). The handler enforces the
# contract's own, far smaller limit (256 KiB) itself.
MAX_BODY = 6 * 1024 * 1024
# the handler's problem types and titles (sla.errors), for the problems both can answer
PROBLEM_TYPE = "urn:sla-keeper:problem:"
_AS_THE_HANDLER_SAYS = {
    400: ("malformed-request", "Malformed request"),
    413: ("payload-too-large", "Payload too large"),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade"}
INTERNAL_ERROR = {"message": "Internal Server Error"}  # API Gateway's answer to a failed function

Headers = list[tuple[str, str]]


class Clock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> datetime: ...


class Stack(Protocol):
    """What the server needs of the local stack."""

    @property
    def clock(self) -> Clock: ...

    @property
    def notifications(self) -> list[dict[str, Any]]: ...

    @property
    def echo(self) -> Callable[[str], None]: ...

    def invoke(self, name: str, event: dict[str, Any]) -> Any: ...

    def pump(self, wait: float | None = None) -> bool: ...

    def schedules(self) -> list[dict[str, Any]]: ...

    def report(self, start: str | None = None, end: str | None = None) -> str: ...


# -- CORS, as the template declares it -------------------------------------------------------


@dataclass(frozen=True)
class Cors:
    """An HTTP API's ``CorsConfiguration``, applied the way API Gateway applies it."""

    origins: tuple[str, ...]
    methods: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None
    credentials: bool = False

    @classmethod
    def from_template(cls, template: dict[str, Any] | None = None) -> Cors | None:
        """The configuration of the template's HTTP API, or None when it declares no CORS."""
        resources = (template or load_template())["Resources"]
        apis = [r for r in resources.values() if r["Type"] == "AWS::Serverless::HttpApi"]
        if len(apis) != 1:
            raise ValueError(f"expected one AWS::Serverless::HttpApi, found {len(apis)}")
        config = apis[0].get("Properties", {}).get("CorsConfiguration")
        if config is None:
            return None
        if not isinstance(config, dict):
            raise ValueError("CorsConfiguration: only the mapping form is supported locally")
        max_age = config.get("MaxAge")
        return cls(
            origins=tuple(config.get("AllowOrigins", ())),
            methods=tuple(m.upper() for m in config.get("AllowMethods", ())),
            headers=tuple(config.get("AllowHeaders", ())),
            expose=tuple(config.get("ExposeHeaders", ())),
            max_age=None if max_age is None else int(max_age),
            credentials=bool(config.get("AllowCredentials", False)),
        )

    def _allowed_origin(self, origin: str) -> str | None:
        """What ``Access-Control-Allow-Origin`` says to this origin, or None if not allowed.
        Patterns: ``*``, ``https://*`` / ``http://*`` (any origin of that scheme), or exact."""
        for pattern in self.origins:
            if pattern == "*":
                return origin if self.credentials else "*"
            if pattern.endswith("://*") and origin.lower().startswith(pattern[:-1].lower()):
                return origin
            if pattern.lower() == origin.lower():
                return origin
        return None

    def preflight(self, origin: str, method: str) -> Headers:
        """The headers of the answer to a preflight; none unless origin and method are allowed.
        Requested headers are the browser's to check against ``Access-Control-Allow-Headers``."""
        allowed = self._allowed_origin(origin)
        if allowed is None or not ("*" in self.methods or method.upper() in self.methods):
            return []
        headers = [("Access-Control-Allow-Origin", allowed)]
        if self.methods:
            headers.append(("Access-Control-Allow-Methods", ",".join(self.methods)))
        if self.headers:
            headers.append(("Access-Control-Allow-Headers", ",".join(self.headers)))
        if self.max_age is not None:
            headers.append(("Access-Control-Max-Age", str(self.max_age)))
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    def actual(self, origin: str) -> Headers:
        """The headers added to any other answer to a request from this origin."""
        allowed = self._allowed_origin(origin)
        if allowed is None:
            return []
        headers = [("Access-Control-Allow-Origin", allowed)]
        if self.expose:
            headers.append(("Access-Control-Expose-Headers", ",".join(self.expose)))
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers


# -- the application -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Headers
    body: bytes

    def __call__(self, start_response: StartResponse) -> list[bytes]:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:  # a status Python has no name for
            reason = ""
        start_response(f"{self.status} {reason}".rstrip(), self.headers)
        return [self.body]


def json_answer(status: int, document: Any, content_type: str = "application/json") -> Answer:
    body = json.dumps(document, indent=2).encode()
    return Answer(status, [("Content-Type", content_type)], body)


def problem(status: int, detail: str) -> Answer:
    """An RFC 9457 problem document for what the server itself refuses."""
    phrase = HTTPStatus(status).phrase
    slug, title = _AS_THE_HANDLER_SAYS.get(
        status, (phrase.lower().replace(" ", "-"), phrase.capitalize())
    )
    document = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail}
    return json_answer(status, document, "application/problem+json")


class LocalApi:
    """The WSGI application: the API as API Gateway fronts it, plus the ``/_local/`` routes."""

    def __init__(self, stack: Stack, cors: Cors | None) -> None:
        self.stack = stack
        self.cors = cors
        self._local: dict[tuple[str, str], Callable[[Request], Answer]] = {
            ("GET", "/_local/notifications"): self._notifications,
            ("GET", "/_local/clock"): self._clock,
            ("POST", "/_local/clock"): self._advance,
            ("GET", "/_local/schedules"): self._schedules,
            ("GET", "/_local/report"): self._report,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_local/"):
            return self._guarded(request, self._local_route)(start_response)
        origin = request.headers.get("Origin")
        if self.cors is None or origin is None:
            return self._guarded(request, self._api)(start_response)
        asked = request.headers.get("Access-Control-Request-Method")
        if request.method == "OPTIONS" and asked is not None:
            # a preflight: API Gateway answers it itself when CORS is configured, route or not
            return Answer(204, self.cors.preflight(origin, asked), b"")(start_response)
        answer = self._guarded(request, self._api)
        # API Gateway ignores CORS headers from the integration and adds the configured ones
        kept = [(k, v) for k, v in answer.headers if not k.lower().startswith("access-control-")]
        return Answer(answer.status, kept + self.cors.actual(origin), answer.body)(start_response)

    def _guarded(self, request: Request, route: Callable[[Request], Answer]) -> Answer:
        try:
            return route(request)
        except Exception as exc:  # as API Gateway answers a failed integration
            target = _raw_target(request.environ)
            self.stack.echo(f"[local] {request.method} {target}: {type(exc).__name__}: {exc}")
            return json_answer(500, INTERNAL_ERROR)

    # -- the API, behind API Gateway

    def _api(self, request: Request) -> Answer:
        parts = urlsplit(_raw_target(request.environ))
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            # as HTTP API does: a repeated parameter arrives comma-joined
            query[name] = f"{query[name]},{value}" if name in query else value
        body = request.get_data()
        event = http_api_event(
            request.method,
            api_gateway_path(parts.path),
            headers=dict(request.headers.items()),
            body=body or None,
            query=query or None,
            time_epoch_ms=int(self.stack.clock.now().timestamp() * 1000),
        )
        event["rawQueryString"] = parts.query
        result = self.stack.invoke("webhook", event)
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        return Answer(result["statusCode"], headers, raw)

    # -- local-only routes

    def _local_route(self, request: Request) -> Answer:
        method = "GET" if request.method == "HEAD" else request.method
        route = self._local.get((method, request.path))
        if route is None:
            return json_answer(404, {"error": "unknown local route"})
        return route(request)

    def _notifications(self, request: Request) -> Answer:
        return json_answer(200, self.stack.notifications)

    def _clock(self, request: Request) -> Answer:
        return json_answer(200, {"now": self.stack.clock.now().isoformat()})

    def _advance(self, request: Request) -> Answer:
        try:
            asked = json.loads(request.get_data() or b"{}")
            now = self.stack.clock.advance(_duration(asked, self.stack.clock.now()))
        except (ValueError, TypeError, AttributeError) as exc:
            return json_answer(400, {"error": str(exc)})
        # true when everything that fell due has fired; false while a long backlog is still
        # being worked off (notifications keep arriving)
        caught_up = self.stack.pump()
        return json_answer(200, {"now": now.isoformat(), "caught_up": caught_up})

    def _schedules(self, request: Request) -> Answer:
        return json_answer(200, self.stack.schedules())

    def _report(self, request: Request) -> Answer:
        """The SLA report of the stack's tickets as ``sla report --html`` draws it; ``from`` and
        ``to`` as ``--from`` and ``--to``."""
        try:
            page = self.stack.report(request.args.get("from"), request.args.get("to"))
        except ValueError as exc:
            return json_answer(400, {"error": str(exc)})
        return Answer(200, [("Content-Type", "text/html; charset=utf-8")], page.encode())


def _raw_target(environ: WSGIEnvironment) -> str:
    """The request target as the client sent it (werkzeug hands it over in WSGI's latin-1)."""
    raw: str = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _duration(request: dict[str, Any], now: datetime) -> timedelta:
    """``{"advance": "4h30m"}`` or ``{"seconds": 3600}`` or ``{"until": "<ISO instant>"}``."""
    if "seconds" in request:
        return timedelta(seconds=float(request["seconds"]))
    if "advance" in request:
        text, total, number = str(request["advance"]), 0.0, ""
        units = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
        for char in text:
            if char.isdigit() or char == ".":
                number += char
            elif char in units and number:
                total += float(number) * units[char]
                number = ""
            else:
                raise ValueError("advance looks like 4h30m, 90m or 2d")
        if number:
            raise ValueError("advance needs a unit: d, h, m or s")
        return timedelta(seconds=total)
    if "until" in request:
        target = datetime.fromisoformat(str(request["until"]))
        if target.tzinfo is None:
            raise ValueError("until needs a timezone")
        return target - now
    raise ValueError('send {"advance": "4h"}, {"seconds": 3600} or {"until": "<ISO instant>"}')


# -- the server ------------------------------------------------------------------------------


class Refused(Exception):
    """A request the server answers itself, before the application, and then hangs up."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.answer = problem(status, detail)


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, keeping connections open and refusing with problems.

    werkzeug's own closes every connection after one request (and first drains the socket for a
    moment), because http.server cannot tell where a request body ends. This one reads each body
    to its declared end (Content-Length, or the last chunk) before the application runs, so the
    next request on the connection starts where this one ended; it hangs up only after a refusal
    or when the client asks. Responses always carry their length."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection or a stalled body is dropped after a minute
    # the head and the body of an answer are two writes: without this, on a kept-alive
    # connection the body waits for the client's delayed acknowledgement of the head (~40 ms)
    disable_nagle_algorithm = True
    open_connections: ClassVar[set[socket.socket]]
    lock: ClassVar[threading.Lock]

    def setup(self) -> None:
        super().setup()
        with self.lock:
            self.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.lock:
            self.open_connections.discard(self.connection)
        super().finish()

    def handle_expect_100(self) -> bool:
        try:
            self._framing()
        except Refused:
            return True  # no "100 Continue" for a body that will be refused
        return super().handle_expect_100()

    def run_wsgi(self) -> None:
        try:
            body = self._read_body()
        except Refused as refusal:
            self.close_connection = True
            self._send(refusal.answer.status, refusal.answer.headers, refusal.answer.body)
            self._linger()
            return
        if body is None:  # the client hung up in the middle of its body
            self.close_connection = True
            return
        environ = self.make_environ()
        environ["wsgi.input"] = BytesIO(body)
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the application gets the whole body
        if "CONTENT_LENGTH" in environ or body:
            environ["CONTENT_LENGTH"] = str(len(body))
        captured: list[Any] = []

        def start_response(status: str, headers: Headers, exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return None

        chunks = self.server.app(environ, start_response)
        content = b"".join(chunks)
        status, headers = captured
        self._send(int(status.split(" ", 1)[0]), headers, content)

    def _framing(self) -> int | None:
        """How long the body is: a length, None for chunked; or Refused."""
        lengths = self.headers.get_all("Content-Length") or []
        codings = self.headers.get_all("Transfer-Encoding") or []
        if codings:
            if lengths:
                raise Refused(400, "A request may carry Content-Length or Transfer-Encoding.")
            coding = [c.strip().lower() for c in ",".join(codings).split(",")]
            if coding != ["chunked"]:
                raise Refused(501, "The only transfer coding accepted is chunked.")
            return None
        values = {v.strip() for v in ",".join(lengths).split(",")} if lengths else {"0"}
        text = values.pop()
        if values or not (text.isascii() and text.isdigit()):
            raise Refused(400, "Content-Length must be one non-negative integer.")
        if len(text) > 18 or int(text) > MAX_BODY:
            raise Refused(413, f"The request body is over {MAX_BODY} bytes.")
        return int(text)

    def _read_body(self) -> bytes | None:
        length = self._framing()
        if length is not None:
            body = self.rfile.read(length) if length else b""
            return body if len(body) == length else None
        stream = DechunkedInput(self.rfile)  # type: ignore[arg-type]  # a buffered reader
        parts: list[bytes] = []
        size = 0
        while True:
            try:
                part = stream.read(64 * 1024)
            except OSError:
                raise Refused(400, "The chunked request body is malformed.") from None
            if not part:
                return b"".join(parts)
            size += len(part)
            if size > MAX_BODY:
                raise Refused(413, f"The request body is over {MAX_BODY} bytes.")
            parts.append(part)

    def _send(self, status: int, headers: Headers, body: bytes) -> None:
        self.send_response(status)
        names = set()
        for name, value in headers:
            if name.lower() in _HOP_BY_HOP:  # the framing of this connection is ours
                continue
            self.send_header(name, value)
            names.add(name.lower())
        if "content-length" not in names and not (status < 200 or status in (204, 304)):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _linger(self) -> None:
        """After a refusal: stop sending, and read and drop what the client still sends for a
        while, so that it gets to read the answer. (Closing a socket with unread data in it
        resets the connection, and a client still sending its body would see only that.)"""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(2)
            dropped = 0
            while dropped < 2 * MAX_BODY:
                data = self.rfile.read1(64 * 1024)
                if not data:
                    return
                dropped += len(data)
        except OSError:
            return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's refusals (a malformed request line, headers too long or too many), as
        problems. Its message quotes the request: the detail is the status's description."""
        answer = problem(code, HTTPStatus(code).description)
        if self.request_version == "HTTP/0.9":  # what a line it cannot parse counts as
            self.request_version = "HTTP/1.1"  # so that the answer has a status line and headers
        self.close_connection = True
        self._send(code, answer.headers, answer.body)
        self._linger()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return  # failures are echoed by the application; requests are not logged

    def log_error(self, format: str, *args: Any) -> None:
        return  # timeouts of idle connections and the like: nothing to act on


class LocalServer:
    """The API on ``127.0.0.1:port`` (0: any free port), served by werkzeug's threaded server
    in a thread of its own until :meth:`stop`."""

    def __init__(self, stack: Stack, port: int = 0, cors: Cors | None = None) -> None:
        class Handler(_Handler):
            open_connections: ClassVar[set[socket.socket]] = set()
            lock: ClassVar[threading.Lock] = threading.Lock()

        self._handler = handler = Handler
        self._server = make_server(
            "127.0.0.1", port, LocalApi(stack, cors), threaded=True, request_handler=handler
        )
        self.port: int = self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, then hang up on connections kept open by their clients."""
        self._server.shutdown()
        self._thread.join(timeout=15)
        with self._handler.lock:
            connections = list(self._handler.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)
