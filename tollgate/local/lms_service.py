"""A stand-in LMS HTTP service on loopback, serving the endpoints Tollgate's synthetic flows use.

Faults are switches on ``service.faults``: a forced status (e.g. 503), a delay per response, JSON with the
wrong fields; ``stop()`` closes the port so requests are refused. Use it as a context manager.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tollgate.local.serving import serve_in_thread

SYNTHETIC_USERNAME = "tollgate-synthetic"

HOOK_HANDLER = "lambdas.hooks.handler.handler"


@dataclass
class LmsFaults:
    """Switches for misbehaviour; ``paths`` limits them to paths starting with one of the prefixes."""

    status: int | None = None
    delay_seconds: float = 0.0
    wrong_json: bool = False
    paths: tuple[str, ...] = ()
    # Answer this share of requests with ``error_status`` (deterministic: evenly spread, not random).
    error_percent: float = 0.0
    error_status: int = 503
    _served: int = field(default=0, repr=False)

    def next_request_fails(self) -> bool:
        """Count one request; True when it is one of the ``error_percent`` share that fails."""
        if self.error_percent <= 0:
            return False
        self._served += 1
        n, share = self._served, min(self.error_percent, 100.0) / 100
        return int(n * share) > int((n - 1) * share)

    def applies_to(self, path: str) -> bool:
        return not self.paths or path.startswith(self.paths)


@dataclass
class LmsState:
    username: str = SYNTHETIC_USERNAME
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_AUTH_SCHEME = "bearer"
_SHELL = b'<!doctype html><html><head><title>LMS</title></head><body><div id="root"></div></body></html>'


class _LmsHandler(BaseHTTPRequestHandler):
    server: _LmsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recorded requests instead."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        lms = self.server.lms
        faults = self.server.faults
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lms.state.lock:
            lms.state.requests.append((method, path))
        applies = faults.applies_to(path)
        if applies and faults.delay_seconds:
            time.sleep(faults.delay_seconds)
        if applies and faults.status is not None:
            self._send(faults.status, {"error": "injected fault"})
            return
        if applies and faults.error_percent:
            with lms.state.lock:
                fails = faults.next_request_fails()
            if fails:
                self._send(faults.error_status, {"error": "injected fault"})
                return
        status, payload = lms.route(method, path, body, self.headers.get("Authorization", ""))
        if applies and faults.wrong_json and isinstance(payload, dict):
            payload = {"unexpected": True, "status": "bogus"}
        self._send(status, payload)

    def _send(self, status: int, payload: dict[str, Any] | bytes) -> None:
        if isinstance(payload, bytes):
            data, kind = payload, "text/html; charset=utf-8"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _LmsServer(ThreadingHTTPServer):
    daemon_threads = True
    # Concurrent flows connect at once; the default backlog of 5 would serialize them.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) closes the socket mid-answer: expected, not worth a traceback."""

    def __init__(self, lms: LmsService) -> None:
        super().__init__(("127.0.0.1", 0), _LmsHandler)
        self.lms = lms
        self.faults = lms.faults


class LmsService:
    """The stand-in LMS: ``with LmsService() as lms: lms.base_url``."""

    def __init__(self, *, username: str = SYNTHETIC_USERNAME, password: str | None = None) -> None:
        """Accepts ``username``/``password`` (a fresh random password unless given) for the synthetic user."""
        self.faults = LmsFaults()
        self.state = LmsState(username=username) if password is None else LmsState(username=username, password=password)
        self._server: _LmsServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the stand-in LMS has not been started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self.state.lock:
            return list(self.state.requests)

    def start(self) -> LmsService:
        self._server = _LmsServer(self)
        self._port = int(self._server.server_address[1])
        self._thread = serve_in_thread(self._server, "lms-stand-in")
        return self

    def stop(self) -> None:
        """Close the port: later requests are refused (``base_url`` keeps the closed port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LmsService:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def route(self, method: str, path: str, body: bytes, authorization: str) -> tuple[int, dict[str, Any] | bytes]:
        if method == "GET" and path in ("/api/health", "/health"):
            return 200, {"status": "ok"}
        if method == "GET" and path in ("/", "/index.html"):
            return 200, _SHELL
        if method == "POST" and path == "/api/auth/token":
            return self._token(body)
        if path.startswith("/api/loan-applications"):
            token = authorization.removeprefix("Bearer ").strip()
            with self.state.lock:
                known = token in self.state.tokens
            if not known:
                return 401, {"error": "not authenticated"}
            if method == "POST" and path == "/api/loan-applications":
                return self._submit(body)
            if method == "GET":
                return self._read(path.rsplit("/", 1)[-1])
        return 404, {"error": f"no route {method} {path}"}

    def _token(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            credentials = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": "expected JSON"}
        if credentials.get("username") != self.state.username or credentials.get("password") != self.state.password:
            return 401, {"error": "bad credentials"}
        token = uuid.uuid4().hex
        with self.state.lock:
            self.state.tokens.add(token)
        return 200, {"access_token": token, "token_type": _AUTH_SCHEME}

    def _submit(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            application = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": "expected JSON"}
        record = {
            "id": uuid.uuid4().hex,
            "status": "submitted",
            "synthetic": application.get("synthetic") is True,
            "amount": application.get("amount"),
        }
        with self.state.lock:
            self.state.applications[record["id"]] = record
        return 201, record

    def _read(self, application_id: str) -> tuple[int, dict[str, Any]]:
        with self.state.lock:
            record = self.state.applications.get(application_id)
        return (200, record) if record else (404, {"error": "no such application"})


@dataclass(frozen=True)
class FlowBenchResult:
    flows: int
    elapsed_seconds: float
    passed: int


def run_flows_against_slow_lms(
    flows: int, *, delay_seconds: float = 0.2, environment: str = "production"
) -> FlowBenchResult:
    """For the bench: N copies of the environment's loan-application flow against a stand-in LMS whose every
    response takes ``delay_seconds``; concurrency keeps the elapsed time near one flow's, not N flows'."""
    from lambdas.core.config import load_environment  # noqa: PLC0415 - the bench imports this module first
    from lambdas.hooks.deadline import Deadline  # noqa: PLC0415
    from lambdas.hooks.flows import FlowRun, run_flows  # noqa: PLC0415
    from lambdas.hooks.http_client import send_http  # noqa: PLC0415

    config = load_environment(environment)
    flow = config.checks.flows["loan-application"]
    with LmsService() as lms:
        lms.faults.delay_seconds = delay_seconds
        runs = [FlowRun(name=f"loan-application-{n}", flow=flow, base_url=lms.base_url) for n in range(flows)]
        started = time.monotonic()
        results = run_flows(
            runs,
            variables={"username": lms.state.username, "password": lms.state.password},
            send=send_http,
            deadline=Deadline(at=time.monotonic() + 60),
            request_timeout_seconds=10,
        )
        elapsed = time.monotonic() - started
    return FlowBenchResult(flows=flows, elapsed_seconds=elapsed, passed=sum(r.passed for r in results))
