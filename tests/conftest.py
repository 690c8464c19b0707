"""Shared fixtures: the embedded AWS (one moto server per test session) and event samples."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Tollgate")

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"


@pytest.fixture(scope="session")
def embedded_aws_server() -> Iterator[Any]:
    from tollgate.embedded_aws import EmbeddedAws

    with EmbeddedAws() as running:
        yield running


@pytest.fixture
def embedded_aws(embedded_aws_server: Any) -> Iterator[Any]:
    """A clean embedded AWS for one test: every resource from earlier tests is forgotten."""
    embedded_aws_server.reset()
    yield embedded_aws_server


@pytest.fixture
def load_event() -> Any:
    def _load(name: str) -> dict[str, Any]:
        return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))

    return _load
