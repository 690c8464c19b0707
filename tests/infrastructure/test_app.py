"""The whole app: one stack per environment, config validated before any construct."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from aws_cdk import App

from lambdas.core.config import ENVIRONMENTS_DIR, ConfigError
from stacks.app_factory import build_app, stack_name


def test_app_has_one_stack_per_environment() -> None:
    app = build_app(App(builtin_cloud_formation_validation=False))
    names = sorted(child.node.id for child in app.node.children if child.node.id.startswith("Tollgate-"))
    assert names == sorted(stack_name(env) for env in ("development", "staging", "production"))


def test_a_wrong_value_fails_before_any_stack_naming_environment_and_field(tmp_path: Path) -> None:
    # Given production's config with a canary that never reaches 100%
    for file in ENVIRONMENTS_DIR.glob("*.json"):
        shutil.copy(file, tmp_path / file.name)
    production = json.loads((tmp_path / "production.json").read_text())
    production["deployment"]["canary_steps"] = [10, 50]
    (tmp_path / "production.json").write_text(json.dumps(production))
    app = App(builtin_cloud_formation_validation=False)
    # When the app is built / Then it fails naming the environment and the field, and built nothing
    with pytest.raises(ConfigError, match=r"environment 'production'.*deployment\.canary_steps"):
        build_app(app, config_dir=tmp_path)
    assert not [c for c in app.node.children if c.node.id.startswith("Tollgate-")]
