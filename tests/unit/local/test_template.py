"""Reading functions, rules, subscriptions and schedules out of a synthesized template."""

from __future__ import annotations

from tests.local_template import sample_template
from tollgate.local.template import parse_template


def test_functions_rules_and_targets_are_read() -> None:
    template = parse_template("staging", sample_template())
    assert set(template.functions) == {"Announcer", "Listener", "Broken"}
    assert template.functions["Announcer"].name == "tollgate-staging-announcer"
    assert template.functions["Listener"].name == "Listener"  # no FunctionName: the logical id
    assert template.functions["Announcer"].timeout_seconds == 10
    rules = {r.logical_id: r for r in template.rules}
    assert rules["AlarmRule"].target_function_ids == ("Announcer",)
    assert not rules["AlarmRule"].on_tollgate_bus
    assert rules["TollgateRule"].on_tollgate_bus
    assert template.sns_subscribed_function_ids == ("Listener",)
    assert template.scheduled_function_ids == ("Listener",)


def test_functions_are_found_by_name_id_or_unique_fragment() -> None:
    template = parse_template("staging", sample_template())
    assert template.function_by_name("tollgate-staging-announcer").logical_id == "Announcer"  # type: ignore[union-attr]
    assert template.function_by_name("Broken").logical_id == "Broken"  # type: ignore[union-attr]
    assert template.function_by_name("listen").logical_id == "Listener"  # type: ignore[union-attr]
    assert template.function_by_name("nothing-like-it") is None
