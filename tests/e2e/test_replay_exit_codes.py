"""`tollgate replay` exit codes: 2 and one line on unreadable input, 1 and one line naming the function that raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR
from tollgate.cli import main

_DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xff\xfe{not utf-8", "not UTF-8"),
        (_DEEP.encode(), "nested too deeply"),
        (b'{"id": ' + b"9" * 5000 + b"}", "not readable JSON"),
        (b"{oops", "not JSON"),
        (b"[1, 2, 3]", "is not an event"),
        (b"null", "is not an event"),
        (b'"a string"', "is not an event"),
    ],
    ids=["not-utf8", "deep", "huge-int", "not-json", "list", "null", "string"],
)
def test_unreadable_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, said: str
) -> None:
    # Given a file the replay cannot read as an event
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    # When it is replayed
    exit_code = main(["replay", str(bad), "--json"])
    # Then exit 2, nothing on stdout, one line on stderr saying why
    captured = capsys.readouterr()
    assert exit_code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert said in captured.err


def test_a_handler_that_raises_exits_1_naming_the_function(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the notifier's use case failing with an unexpected error
    import lambdas.notifier.handler as notifier_handler  # noqa: PLC0415

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(notifier_handler, "notify", broken)
    # When a CodeDeploy START (handled by the notifier only) is replayed
    exit_code = main(["replay", str(EVENTS_DIR / "codedeploy-deployment-start.json"), "--json"])
    # Then the report is printed, the exit code is 1 and one stderr line names the function
    captured = capsys.readouterr()
    assert exit_code == 1
    assert '"decision": "error"' in captured.out
    [line] = captured.err.splitlines()
    assert "Notifier" in line
    assert "RuntimeError: boom" in line
