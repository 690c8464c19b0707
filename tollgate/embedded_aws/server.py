"""Start moto's server in-process on 127.0.0.1 with an ephemeral port.

Handlers reach it through ordinary boto3 clients: ``AWS_ENDPOINT_URL`` points every client at it,
so the code path is the one that runs in Lambda.
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from lambdas.core import aws
from tollgate.embedded_aws import snapshot as snapshots
from tollgate.embedded_aws.snapshot import Snapshot
from tollgate.local.serving import SHUTDOWN_POLL_SECONDS

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # nosec B105 - moto accepts any value
    "AWS_SESSION_TOKEN": "testing",  # nosec B105 - moto accepts any value
}
# moto's own settings, read when a backend is created in this process. No LMS resource is an EC2 instance:
# without this, every reset embedded AWS builds ~13,000 default AMIs (each with a volume and a snapshot) on its
# first EC2 call, 57 ms of the LMS seed's CreateVpc (docs/decisions/0110-test-suite-speed.md).
_MOTO_SETTINGS = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}


class _PromptMotoServer(ThreadedMotoServer):
    """moto's threaded server, polling for shutdown every 50 ms, not werkzeug's 0.5 s (tollgate/local/serving.py)."""

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            DomainDispatcherApplication(create_backend_app),
            True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=SHUTDOWN_POLL_SECONDS)


class EmbeddedAws:
    """moto server on loopback; use as a context manager or call start()/stop()."""

    def __init__(self, region: str = "eu-west-1") -> None:
        self.region = region
        self._server = _PromptMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._started = False
        self._saved_environ: dict[str, str | None] = {}

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> EmbeddedAws:
        # Imported here so the extensions patch moto before the first request.
        from tollgate.embedded_aws import extensions  # noqa: PLC0415

        extensions.install()
        # werkzeug logs every request at INFO; the replay report is the record that matters.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto's ASL interpreter logs every Fail state an execution reaches as an error with its whole parse
        # tree; a failed canary is an outcome here, and its execution history has the details.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self._server.start()
        self._untrace_requests()
        self._started = True
        self._point_clients_here()
        # moto keeps its state in module globals shared by every server in this process: a new
        # embedded AWS starts empty.
        self.reset()
        return self

    def stop(self) -> None:
        if self._started:
            self._server.stop()
            self._started = False
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environ.clear()
        aws.reset()

    def reset(self) -> None:
        """Forget every resource (moto's reset API), keeping the server running."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310  # nosec B310 - http on loopback
            pass
        aws.reset()

    def snapshot(self) -> Snapshot:
        """A copy of every resource the embedded AWS holds now (call between requests)."""
        return snapshots.take()

    def restore(self, saved: Snapshot) -> None:
        """Forget every resource, then hold a fresh copy of what ``saved`` held (see ``snapshot``)."""
        self.reset()
        snapshots.install(saved)

    def _untrace_requests(self) -> None:
        """Serve each request on a thread without the process's trace function (coverage, a profiler).

        moto is not what is measured (coverage's source is Tollgate's own code), yet a tracer pays for every
        Python call of moto's request handling: over half of what coverage added to the fault matrices
        (docs/decisions/0110-test-suite-speed.md). Threads moto starts
        from a request (a Step Functions execution, whose Lambda tasks run Tollgate's handlers) are new
        threads, and ``threading.settrace`` still traces them.
        """
        server: Any = self._server._server  # moto keeps werkzeug's server there
        serve = server.process_request_thread

        def untraced(request: Any, client_address: Any) -> None:
            sys.settrace(None)
            serve(request, client_address)

        server.process_request_thread = untraced

    def _point_clients_here(self) -> None:
        values = {
            **_FAKE_CREDENTIALS,
            **_MOTO_SETTINGS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        for key, value in values.items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        aws.reset()

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextmanager
def embedded_aws(region: str = "eu-west-1") -> Iterator[EmbeddedAws]:
    with EmbeddedAws(region) as running:
        yield running
