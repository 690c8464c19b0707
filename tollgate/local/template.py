"""Read what the synthesized stack deploys: functions, EventBridge rules, SNS subscriptions.

Local routing comes from these templates, so the rules that decide which handler gets an event
locally are the very rules the stack deploys. Templates are synthesized on demand when missing or
older than the code that produces them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdas.core.config import ENVIRONMENT_NAMES, ENVIRONMENTS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
# The local runtime's own synth: the same app with the canary's waits divided by LOCAL_TIME_SCALE (a bake of
# 7 minutes plays in 7 s), kept apart from cdk.out/, which holds what ships (`make synth`).
CDK_OUT = REPO_ROOT / "build" / "local.cdk.out"
LOCAL_TIME_SCALE = 60


def local_seconds(seconds: int) -> int:
    """A canary wait of ``seconds`` as the local synth has it (``CanaryController._seconds``: at least 1 s)."""
    return max(1, seconds // LOCAL_TIME_SCALE)


class TemplateError(Exception):
    """The synthesized template is missing, unreadable or not what Tollgate's stack produces."""


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # FunctionName when the stack sets one, otherwise the logical id
    handler: str
    environment: dict[str, Any]
    timeout_seconds: int
    memory_mb: int


@dataclass(frozen=True)
class RuleSpec:
    logical_id: str
    pattern: dict[str, Any]
    on_tollgate_bus: bool
    target_function_ids: tuple[str, ...]
    enabled: bool = True


@dataclass(frozen=True)
class StackTemplate:
    environment: str
    resources: dict[str, dict[str, Any]]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    rules: tuple[RuleSpec, ...] = ()
    sns_subscribed_function_ids: tuple[str, ...] = ()
    scheduled_function_ids: tuple[str, ...] = ()
    function_url_function_ids: tuple[str, ...] = ()

    def function_by_name(self, name: str) -> FunctionSpec | None:
        """Find a function by FunctionName, logical id, or a unique case-insensitive substring of either."""
        exact = [f for f in self.functions.values() if name in (f.name, f.logical_id)]
        if exact:
            return exact[0]
        wanted = _loose(name)
        partial = [f for f in self.functions.values() if wanted in _loose(f"{f.name} {f.logical_id}")]
        if len(partial) > 1:  # a hook name is also part of longer hook names (AfterAllowTraffic...)
            partial = [f for f in partial if _loose(f.name).endswith(wanted)] or partial
        return partial[0] if len(partial) == 1 else None

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == resource_type}


def _loose(text: str) -> str:
    """Lower case letters and digits only: `after-allow-test-traffic` finds `...AfterAllowTestTraffic`."""
    return "".join(c for c in text.lower() if c.isalnum())


def _target_function_id(arn: Any) -> str | None:
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        logical_id, attribute = arn["Fn::GetAtt"]
        return str(logical_id) if attribute == "Arn" else None
    return None


def _construct_name(resource: dict[str, Any], logical_id: str) -> str:
    """A readable name from the construct path: `Tollgate-x/Notifier/Function/Function/Resource` -> `Notifier`."""
    path = str(resource.get("Metadata", {}).get("aws:cdk:path", ""))
    parts = path.split("/")[1:-1]
    while len(parts) > 1 and parts[-1] == "Function":
        parts.pop()
    return "/".join(parts) or logical_id


def parse_template(environment: str, template: dict[str, Any]) -> StackTemplate:
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    functions: dict[str, FunctionSpec] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties", {})
        name = props.get("FunctionName")
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=name if isinstance(name, str) else _construct_name(resource, logical_id),
            handler=str(props["Handler"]),
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            timeout_seconds=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )
    rules = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Events::Rule":
            continue
        props = resource.get("Properties", {})
        if "EventPattern" not in props:
            continue  # schedule rules have no pattern; the scheduler sample targets them by --function
        targets = tuple(
            target_id
            for target in props.get("Targets", [])
            if (target_id := _target_function_id(target.get("Arn"))) in functions
        )
        rules.append(
            RuleSpec(
                logical_id=logical_id,
                pattern=props["EventPattern"],
                on_tollgate_bus="EventBusName" in props,
                target_function_ids=targets,
                enabled=props.get("State", "ENABLED") == "ENABLED",
            )
        )
    subscribed = tuple(
        target_id
        for resource in resources.values()
        if resource.get("Type") == "AWS::SNS::Subscription"
        and resource.get("Properties", {}).get("Protocol") == "lambda"
        and (target_id := _target_function_id(resource["Properties"].get("Endpoint"))) in functions
    )
    scheduled = tuple(
        target_id
        for resource in resources.values()
        if resource.get("Type") == "AWS::Scheduler::Schedule"
        and (target_id := _target_function_id(resource.get("Properties", {}).get("Target", {}).get("Arn"))) in functions
    )
    with_url = tuple(
        target_id
        for resource in resources.values()
        if resource.get("Type") == "AWS::Lambda::Url"
        and (target_id := _target_function_id(resource.get("Properties", {}).get("TargetFunctionArn"))) in functions
    )
    return StackTemplate(environment, resources, functions, tuple(rules), subscribed, scheduled, with_url)


def _newest_source_mtime() -> float:
    sources = [REPO_ROOT / "app.py", *REPO_ROOT.joinpath("stacks").rglob("*.py"), *ENVIRONMENTS_DIR.glob("*.json")]
    return max(p.stat().st_mtime for p in sources if p.exists())


def synthesize(out_dir: Path = CDK_OUT) -> None:
    """Synthesize every environment in-process into ``out_dir`` (what `cdk synth` writes)."""
    from aws_cdk import App  # noqa: PLC0415 - the CDK is heavy; only load it when templates are stale

    from stacks.app_factory import build_app  # noqa: PLC0415
    from stacks.constructs.canary import TIME_SCALE_CONTEXT  # noqa: PLC0415

    # jsii runs the CDK in Node: use the project's Node 22 (package.json) as make does.
    node_bin = REPO_ROOT / "node_modules" / ".bin"
    if node_bin.is_dir() and str(node_bin) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    app = build_app(App(outdir=str(out_dir), context={TIME_SCALE_CONTEXT: LOCAL_TIME_SCALE}))
    app.synth()


def _is_stale(path: Path) -> bool:
    return not path.exists() or path.stat().st_mtime < _newest_source_mtime()


def ensure_fresh_templates(out_dir: Path = CDK_OUT) -> None:
    """Synthesize when any environment's template is missing or older than the sources."""
    if any(_is_stale(out_dir / f"Tollgate-{name}.template.json") for name in ENVIRONMENT_NAMES):
        synthesize(out_dir)


def load_stack_template(environment: str, out_dir: Path = CDK_OUT, *, synth_if_stale: bool = True) -> StackTemplate:
    path = out_dir / f"Tollgate-{environment}.template.json"
    if _is_stale(path) and synth_if_stale:
        synthesize(out_dir)
    if not path.exists():
        raise TemplateError(f"no synthesized template at {path}: run `make synth`")
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TemplateError(f"{path} is not valid JSON: {error}") from error
    return parse_template(environment, template)
