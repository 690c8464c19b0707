"""One table of every function's fault-injection matrix: function x call site x fault -> invariant held.

Each matrix test (a test of the modules in ``MATRICES`` whose parameters name a ``kind``) is observed as it
runs (``observe``, called from tests/conftest.py) and its outcome appended to build/fault-results/ (one
file per process, so xdist workers never share a file); at the end of a session ``write_table`` renders
build/fault-table.md from every result recorded (the latest outcome of each cell wins), with the fuzz
case counts of build/fuzz-counts.json. ``python -m tests.fault_table`` renders it again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.faults import CALL_FAULTS, KILLS, FaultKind

BUILD = Path(__file__).resolve().parent.parent / "build"
RESULTS = BUILD / "fault-results"
TABLE = BUILD / "fault-table.md"
FUZZ_COUNTS = BUILD / "fuzz-counts.json"


@dataclass(frozen=True)
class Matrix:
    function: str  # may name a parameter, e.g. "canary task: {action}"
    invariant: str
    site: str = ""  # the call site of a test whose parameters name none


MATRICES: Mapping[str, Matrix] = {
    "tests/functional/rollback/test_rollback_faults.py": Matrix(
        "rollback (alarm)", "the in-flight deployment is stopped exactly once; Rollback Started (critical) announced"
    ),
    "tests/functional/rollback/test_operator_rollback_faults.py": Matrix(
        "rollback (operator, {rollback_type})",
        "each requested step done exactly once (one redeploy, one restored cluster); the request announced; "
        "a resumed rollback does not repeat done steps",
    ),
    "tests/functional/hooks/test_hooks_faults.py": Matrix(
        "hooks (BeforeInstall)",
        "the hook execution reported exactly once; an invocation that could not report raised",
    ),
    "tests/functional/canary/test_canary_faults.py": Matrix(
        "canary task ({action})",
        "traffic restored; the hook execution reported exactly once (already completed counts as done)",
    ),
    "tests/functional/notifier/test_notifier_faults.py": Matrix(
        "notifier", "the alert reaches email at least once and Slack at most once"
    ),
    "tests/functional/ledger/test_ledger_faults.py": Matrix(
        "ledger",
        "after the retry the records are exactly a clean run's (CodeDeploy unreadable: the state is still recorded)",
        site="codedeploy:GetDeployment (every attempt)",
    ),
}
KINDS: tuple[FaultKind, ...] = (*CALL_FAULTS, *KILLS)
_HEADINGS = {
    FaultKind.THROTTLE: "throttle",
    FaultKind.ACCESS_DENIED: "AccessDenied",
    FaultKind.SERVER_ERROR: "5xx",
    FaultKind.TIMEOUT: "timeout",
    FaultKind.KILL_BEFORE: "kill before",
    FaultKind.KILL_AFTER: "kill after",
}


@dataclass(frozen=True)
class Cell:
    module: str
    function: str
    site: str
    kind: str
    held: bool
    at: float
    rank: tuple[int, ...] = ()  # the call site's place in its matrix (its parameters' indices)


def cell_of(
    module: str,
    params: Mapping[str, Any],
    held: bool,
    at: float | None = None,
    indices: Mapping[str, int] | None = None,
) -> Cell | None:
    """The table cell a matrix test fills, or None for a test that is not a matrix cell."""
    matrix = MATRICES.get(module)
    if matrix is None or "kind" not in params:
        return None
    values = {name: getattr(value, "value", value) for name, value in params.items()}
    site = str(values.get("site") or values.get("operation") or matrix.site)
    if "site" not in values and int(values.get("nth", 1)) > 1:
        site = f"{site} (call {values['nth']})"
    rank = tuple(index for name, index in (indices or {}).items() if name != "kind")
    return Cell(
        module=module,
        function=matrix.function.format(**values),
        site=site,
        kind=str(values["kind"]),
        held=held,
        at=time.time() if at is None else at,
        rank=rank,
    )


def observe(item: Any, report: Any) -> None:
    """Record a matrix test's outcome (called for each test phase by tests/conftest.py)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or report.when not in ("setup", "call") or (report.when == "setup" and report.passed):
        return
    module = Path(str(item.fspath)).resolve().relative_to(BUILD.parent).as_posix()
    cell = cell_of(module, callspec.params, held=bool(report.passed), indices=getattr(callspec, "indices", None))
    if cell is None:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(cell.__dict__) + "\n")


def recorded() -> list[Cell]:
    cells: list[Cell] = []
    for path in sorted(RESULTS.glob("*.jsonl")) if RESULTS.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                fields = json.loads(line)
                cells.append(Cell(**{**fields, "rank": tuple(fields.get("rank") or ())}))
            except (ValueError, TypeError):
                continue  # a line cut short by a killed run
    return cells


def render(cells: Iterable[Cell], fuzz_counts: Mapping[str, Mapping[str, int]] | None = None) -> str:
    """Markdown: one table of function x call site, a column per fault; ✓ held, ✗ broken, · not run."""
    latest: dict[tuple[str, str, str], Cell] = {}
    for cell in sorted(cells, key=lambda c: c.at):
        latest[(cell.function, cell.site, cell.kind)] = cell
    order: dict[str, dict[str, tuple[int, ...]]] = {}
    invariants: dict[str, str] = {}
    modules = list(MATRICES)
    for cell in sorted(latest.values(), key=lambda c: (modules.index(c.module), c.rank)):
        order.setdefault(cell.function, {}).setdefault(cell.site, cell.rank)
        invariants[cell.function] = MATRICES[cell.module].invariant
    header = "| function | call site | " + " | ".join(_HEADINGS[k] for k in KINDS) + " |"
    lines = ["# Fault-injection matrix", "", header, "|" + "---|" * (len(KINDS) + 2)]
    held = total = 0
    for function, sites in order.items():
        for site in sorted(sites, key=lambda name: sites[name]):
            marks = []
            for kind in KINDS:
                cell = latest.get((function, site, kind.value))
                if cell is not None:
                    total += 1
                    held += cell.held
                marks.append("·" if cell is None else "✓" if cell.held else "✗")
            lines.append(f"| {function} | {site} | " + " | ".join(marks) + " |")
    lines += ["", f"{held} of {total} cells hold their invariant (✓ held, ✗ broken, · not injected).", ""]
    lines += ["Invariants:", ""] + [f"- **{function}**: {text}" for function, text in invariants.items()]
    if fuzz_counts:
        lines += ["", "Fuzz (hostile events per handler, tests/fuzz.py):", ""]
        lines += ["| handler | cases | answers |", "|---|---|---|"]
        for handler, counts in sorted(fuzz_counts.items()):
            answers = ", ".join(f"{k.removeprefix('decision:')} {v}" for k, v in counts.items() if k != "cases")
            lines.append(f"| {handler} | {counts.get('cases', 0)} | {answers} |")
        lines.append(f"| **all** | **{sum(c.get('cases', 0) for c in fuzz_counts.values())}** | |")
    return "\n".join(lines) + "\n"


def write_table() -> Path | None:
    cells = recorded()
    if not cells:
        return None
    try:
        fuzz = json.loads(FUZZ_COUNTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fuzz = None
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text(render(cells, fuzz), encoding="utf-8")
    return TABLE


if __name__ == "__main__":
    written = write_table()
    print(written.read_text(encoding="utf-8") if written else "no fault-matrix results recorded yet")
