"""The GitHub workflows parse and run the README's commands."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

WORKFLOWS = sorted(Path(".github/workflows").glob("*.yml"))


def test_ci_runs_make_test() -> None:
    ci = yaml.safe_load(Path(".github/workflows/ci.yml").read_text())
    steps = [s.get("run", "") for job in ci["jobs"].values() for s in job["steps"]]
    assert any("make test" in run for run in steps)


@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_each_environment_deploys_through_oidc_after_tests(environment: str) -> None:
    text = Path(f".github/workflows/deploy-{environment}.yml").read_text()
    workflow = yaml.safe_load(text)
    runs = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(f"make deploy ENV={environment}" in run for run in runs)
    assert any("make test" in run for run in runs)
    assert "id-token: write" in text
    assert "configure-aws-credentials" in text
