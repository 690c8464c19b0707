"""Local HTTP servers on threads that stop at once.

``socketserver``'s ``serve_forever`` looks for a shutdown request every ``poll_interval`` (0.5 s by default),
so each ``shutdown()`` waited up to half a second: a local world (embedded AWS, Slack receiver, stand-in LMS)
spent about a second of every teardown waiting. Polling every 50 ms costs nothing measurable.
"""

from __future__ import annotations

import threading
from typing import Protocol

SHUTDOWN_POLL_SECONDS = 0.05


class _Serving(Protocol):
    def serve_forever(self, poll_interval: float = ...) -> None: ...


def serve_in_thread(server: _Serving, name: str) -> threading.Thread:
    """Start ``server.serve_forever`` on a daemon thread that notices ``shutdown()`` within 50 ms."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, name=name, daemon=True
    )
    thread.start()
    return thread
