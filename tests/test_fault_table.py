"""The consolidated fault table (tests/fault_table.py): cells from each matrix's parameters, one table."""

from __future__ import annotations

from lambdas.rollback.operator import RollbackType
from tests.conftest import ROOT
from tests.fault_table import MATRICES, Cell, cell_of, render
from tests.faults import FaultKind


def test_every_matrix_module_exists() -> None:
    assert [m for m in MATRICES if not (ROOT / m).is_file()] == []


def test_cells_are_named_from_each_matrix_parameters() -> None:
    operator = cell_of(
        "tests/functional/rollback/test_operator_rollback_faults.py",
        {
            "rollback_type": RollbackType.FULL,
            "site": "CreateDeployment",
            "operation": "x",
            "nth": 1,
            "kind": FaultKind.TIMEOUT,
        },
        held=True,
    )
    ledger = cell_of(
        "tests/functional/ledger/test_ledger_faults.py",
        {"operation": "dynamodb:PutItem", "nth": 2, "kind": FaultKind.KILL_AFTER},
        held=False,
    )
    assert operator is not None and (operator.function, operator.site, operator.kind) == (
        "rollback (operator, full)",
        "CreateDeployment",
        "timeout",
    )
    assert ledger is not None and (ledger.site, ledger.kind, ledger.held) == (
        "dynamodb:PutItem (call 2)",
        "kill_after",
        False,
    )
    assert cell_of("tests/functional/ledger/test_ledger_faults.py", {"nth": 1}, held=True) is None  # not a cell
    assert cell_of("tests/unit/other.py", {"kind": FaultKind.TIMEOUT}, held=True) is None


def test_the_table_marks_held_broken_and_missing_cells_and_lists_the_fuzz_counts() -> None:
    module = "tests/functional/hooks/test_hooks_faults.py"
    cells = [
        Cell(module, "hooks (BeforeInstall)", "report claim", "throttle", held=False, at=1.0),
        Cell(module, "hooks (BeforeInstall)", "report claim", "throttle", held=True, at=2.0),  # the later run wins
        Cell(module, "hooks (BeforeInstall)", "report claim", "kill_after", held=False, at=1.0),
    ]
    table = render(cells, {"hooks": {"cases": 250, "decision:ignored": 249, "decision:Succeeded": 1}})
    row = next(line for line in table.splitlines() if line.startswith("| hooks (BeforeInstall) | report claim |"))
    assert row == "| hooks (BeforeInstall) | report claim | ✓ | · | · | · | · | ✗ |"
    assert "1 of 2 cells hold" in table
    assert "| hooks | 250 | ignored 249, Succeeded 1 |" in table
    assert MATRICES[module].invariant in table
