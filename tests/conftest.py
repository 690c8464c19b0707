"""Shared fixtures: the embedded AWS (one moto server per test session) and event samples."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import fault_table
from tollgate.embedded_aws import EmbeddedAws

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Tollgate")

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"

# jsii (the CDK's bridge to Node) should use the project's Node 22 from package.json, as make does.
_NODE_BIN = ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir() and str(_NODE_BIN) not in os.environ.get("PATH", ""):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def pytest_configure(config: pytest.Config) -> None:
    """Synthesize stale templates once, before any xdist worker starts, so workers never race on cdk.out/."""
    if hasattr(config, "workerinput"):
        return
    from tollgate.local.template import ensure_fresh_templates  # noqa: PLC0415 - only when tests start

    ensure_fresh_templates()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Every fault-matrix cell's outcome goes to build/fault-results/ (tests/fault_table.py)."""
    outcome = yield
    fault_table.observe(item, outcome.get_result())  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not hasattr(session.config, "workerinput"):  # xdist's controller (or a plain run): workers are done
        fault_table.write_table()


@pytest.fixture(scope="session")
def embedded_aws_server() -> Iterator[Any]:
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
