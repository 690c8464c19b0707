"""Replay events against the embedded AWS with the real handlers, and report what actually ran.

A ``LocalWorld`` is one environment brought up locally: the embedded AWS seeded with the LMS's
resources, Tollgate's own resources deployed from the synthesized template, and a call recorder.
``replay`` routes an event by the template's rules (or to a named function), invokes the handlers,
follows what they announce on Tollgate's bus to the functions subscribed there, and reports.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.events.models import EventPattern

from lambdas.core import aws as aws_clients
from lambdas.core.config import EnvironmentConfig, load_all_environments, load_environment
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.seed import SeedError, create_deployment_of, seed_environment
from tollgate.embedded_aws.server import LOCAL_ACCOUNT_ID, EmbeddedAws
from tollgate.local.deploy import LocalStack, deploy_locally, function_environment
from tollgate.local.github_webhook import install_webhook_secret
from tollgate.local.invoke import Invocation, invoke_handler
from tollgate.local.lms_service import LmsService
from tollgate.local.recorder import AwsCall, CallRecorder
from tollgate.local.slack_receiver import SlackReceiver, emails_sent, install_slack_secrets
from tollgate.local.template import FunctionSpec, StackTemplate, load_stack_template

MAX_CASCADE_DEPTH = 4  # announcements that cause announcements: bounded, so a loop cannot spin


class EventError(Exception):
    """The input is not JSON or not an event Tollgate could receive."""


class LocalWorldError(Exception):
    """The embedded AWS could not be brought up for an environment."""


def read_event(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise EventError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise EventError(f"{path} is not UTF-8 text (byte {error.start})") from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as error:
        raise EventError(f"{path} is not JSON (line {error.lineno}: {error.msg})") from error
    except RecursionError:
        raise EventError(f"{path} is nested too deeply to read") from None
    except ValueError as error:  # e.g. an integer over Python's 4300-digit limit
        raise EventError(f"{path} is not readable JSON: {str(error).splitlines()[0][:120]}") from None
    if event_kind(event) is None:
        raise EventError(
            f"{path} is not an event: expected an EventBridge event (source, detail-type, detail), "
            "an SNS record batch (Records) or a CodeDeploy hook payload (DeploymentId, LifecycleEventHookExecutionId)"
        )
    return dict(event)


def event_kind(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    if {"source", "detail-type", "detail"} <= event.keys():
        return "eventbridge"
    if {"DeploymentId", "LifecycleEventHookExecutionId"} <= event.keys():
        return "codedeploy-hook"
    context = event.get("requestContext")
    if event.get("version") == "2.0" and isinstance(context, dict) and isinstance(context.get("http"), dict):
        return "function-url"  # a Lambda function URL request (payload format 2.0)
    records = event.get("Records")
    if isinstance(records, list) and records and all(isinstance(r, dict) and "Sns" in r for r in records):
        return "sns"
    return None


def infer_environment(event: dict[str, Any], configs: dict[str, EnvironmentConfig]) -> str | None:
    """The environment whose account sent the event, if the event names an account."""
    account = event.get("account")
    if account is None and event_kind(event) == "sns":
        arn = str(event["Records"][0].get("Sns", {}).get("TopicArn", ""))
        account = arn.split(":")[4] if arn.count(":") >= 5 else None
    return next((name for name, c in configs.items() if c.account == account), None)


@dataclass
class Report:
    environment: str
    event_kind: str
    handled_by: list[str] = field(default_factory=list)
    decision: str = "ignored"
    reason: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    aws_calls: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "event_kind": self.event_kind,
            "handled_by": self.handled_by,
            "decision": self.decision,
            "reason": self.reason,
            "results": self.results,
            "aws_calls": self.aws_calls,
            "notifications": self.notifications,
        }


TaskListener = Callable[[str, Any, "Report"], None]
"""Told of every state machine task the world ran: ``(function name, task input, report)``."""

TaskPrelude = Callable[[str, Any], None]
"""Told of every state machine task just before the world runs it: ``(function name, task input)``."""

# Notification sources beyond SNS email (the local Slack receiver is one): each returns every
# notification sent so far, oldest first, as {channel, to, summary} dicts.
NotificationSource = Callable[[], list[dict[str, Any]]]


@dataclass
class LocalWorld:
    config: EnvironmentConfig
    aws: EmbeddedAws
    template: StackTemplate
    stack: LocalStack
    recorder: CallRecorder
    notification_sources: list[NotificationSource] = field(default_factory=list)
    # Variables that point a function at local stand-ins (e.g. the Slack API base URL).
    environment_overrides: dict[str, str] = field(default_factory=dict)
    slack: SlackReceiver | None = None
    task_listeners: list[TaskListener] = field(default_factory=list)
    task_preludes: list[TaskPrelude] = field(default_factory=list)
    # One invocation at a time: state machine tasks run on moto's execution threads, and a handler's
    # environment (os.environ) and the call recorder are the process's.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def messages_sent(self) -> dict[str, list[dict[str, Any]]]:
        """Every Slack message (whole Block Kit payloads) and email (subject and body) sent so far."""
        slack = [
            {"channel": m.channel, "via": m.via, "payload": m.payload}
            for m in (self.slack.messages if self.slack else [])
        ]
        return {"slack": slack, "email": emails_sent(account=LOCAL_ACCOUNT_ID, region=self.config.region)}

    @property
    def tollgate_bus(self) -> str:
        return f"tollgate-{self.config.name}"

    def replay(self, event: dict[str, Any], *, function: str | None = None) -> Report:
        with self._lock:
            return self._replay(event, function=function)

    def paused(self) -> threading.RLock:
        """Hold the world (``with world.paused():``): no function runs meanwhile; state machine tasks wait.

        A handler runs with the process's stdout redirected to its log buffer, so whatever prints while a task
        may run on another thread (an operator's CLI command, say) holds the world first."""
        return self._lock

    def invoke_task(self, function: str, payload: Any) -> tuple[Any, str | None]:
        """A state machine's Lambda task (``extensions.LambdaInvoker``): the handler, and what it announced."""
        name = function.split(":function:", 1)[-1].split(":", 1)[0]
        with self._lock:
            spec = self.template.function_by_name(name)
            if spec is None:
                return {"errorType": "ResourceNotFoundException", "errorMessage": f"no function {name}"}, "Unhandled"
            for prelude in self.task_preludes:
                prelude(spec.name, payload)
            report = self._replay(payload if isinstance(payload, dict) else {"_payload": payload}, function=spec.name)
            for listener in self.task_listeners:
                listener(spec.name, payload, report)
        first = report.results[0] if report.results else {}
        if first.get("decision") == "error":
            error_type, _, message = str(first.get("reason", "")).partition(": ")
            return {"errorType": error_type or "Exception", "errorMessage": message}, "Unhandled"
        return first.get("output"), None

    def _replay(self, event: dict[str, Any], *, function: str | None = None) -> Report:
        kind = event_kind(event) or "unknown"
        report = Report(environment=self.config.name, event_kind=kind)
        first_call = len(self.recorder.calls)
        already_notified = [len(source()) for source in self.notification_sources]
        if function:
            spec = self.template.function_by_name(function)
            if spec is None:
                names = ", ".join(sorted(f.name for f in self.template.functions.values())) or "none"
                raise EventError(f"no function '{function}' in Tollgate-{self.config.name} (functions: {names})")
            if kind == "codedeploy-hook":
                self._stage_hook_deployment(event, spec)
                first_call = len(self.recorder.calls)
            queue = [(spec, event, 0)]
        else:
            queue = [(spec, event, 0) for spec in self._route(event)]
        while queue:
            spec, payload, depth = queue.pop(0)
            start = len(self.recorder.calls)
            invocation = self._invoke(spec, payload)
            report.handled_by.append(spec.name)
            report.results.append(_result(invocation))
            if depth < MAX_CASCADE_DEPTH:
                for announced in _announced_events(self.recorder.since(start), self.config.region):
                    queue.extend((target, announced, depth + 1) for target in self._route(announced))
        report.aws_calls = [c.as_dict() for c in self.recorder.since(first_call)]
        report.notifications = _emails(self.recorder.since(first_call))
        for source, count in zip(self.notification_sources, already_notified, strict=True):
            report.notifications.extend(source()[count:])
        report.decision, report.reason = _overall(report, event, kind, function)
        return report

    def _stage_hook_deployment(self, event: dict[str, Any], spec: FunctionSpec) -> None:
        """Make the payload's deployment exist, in progress at the function's hook, as CodeDeploy would.

        The payload names neither hook nor service: the hook is the function's, the service the
        first one with a deployment group. An id the embedded AWS already knows is left alone.
        """
        hook = str(self.template.functions[spec.logical_id].environment.get("TOLLGATE_HOOK", ""))
        deployment_id = str(event["DeploymentId"])
        execution_id = str(event["LifecycleEventHookExecutionId"])
        if not hook or not self.config.lms.codedeploy_application:
            return
        codedeploy = aws_clients.client("codedeploy")
        try:
            codedeploy.get_deployment(deploymentId=deployment_id)
        except codedeploy.exceptions.DeploymentDoesNotExistException:
            self._create_in_progress_deployment(deployment_id, hook)
        try:
            extensions.hook_execution_status(deployment_id, execution_id)
        except extensions.HookExecutionNotFoundError:
            if extensions.deployment_status(deployment_id) not in extensions.TERMINAL_DEPLOYMENT_STATUSES:
                extensions.register_hook_execution(deployment_id, hook, execution_id=execution_id)

    def _create_in_progress_deployment(self, deployment_id: str, hook: str) -> None:
        service_name = next(name for name, s in self.config.lms.services.items() if s.deployment_group)
        created = create_deployment_of(
            self.config, service_name, description=f"staged by tollgate replay for {service_name} at {hook}"
        )
        extensions.adopt_deployment_id(created, deployment_id)
        extensions.set_deployment_status(deployment_id, "InProgress")

    def _route(self, event: dict[str, Any]) -> list[FunctionSpec]:
        kind = event_kind(event)
        if kind == "sns":
            ids: tuple[str, ...] = self.template.sns_subscribed_function_ids
        elif kind == "function-url":
            ids = self.template.function_url_function_ids
        elif kind == "eventbridge" and event.get("source") == "aws.scheduler":
            ids = self.template.scheduled_function_ids
        elif kind == "eventbridge":
            on_tollgate_bus = event.get("source") == "tollgate" or event.get("_bus") == self.tollgate_bus
            matching = [
                rule
                for rule in self.template.rules
                if rule.enabled
                and rule.on_tollgate_bus == on_tollgate_bus
                and EventPattern.load(json.dumps(rule.pattern)).matches_event(_without_local_keys(event))  # type: ignore[arg-type]
            ]
            ids = tuple(dict.fromkeys(t for rule in matching for t in rule.target_function_ids))
        else:
            ids = ()
        return [self.template.functions[i] for i in ids]

    def _invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Invocation:
        self.recorder.current_function = spec.name
        try:
            return invoke_handler(
                function_name=spec.name,
                handler=spec.handler,
                environment={
                    **function_environment(self.template, spec.logical_id, self.stack),
                    **self.environment_overrides,
                },
                event=_without_local_keys(event),
                timeout_seconds=spec.timeout_seconds,
                memory_mb=spec.memory_mb,
                region=self.config.region,
                # The function runs in the environment's account, as in AWS: its guards compare the
                # account and region of what it is told with its own.
                account=self.config.account,
            )
        finally:
            self.recorder.current_function = "tollgate"


def _without_local_keys(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not k.startswith("_")}


def _result(invocation: Invocation) -> dict[str, Any]:
    result: dict[str, Any] = {
        "function": invocation.function,
        "decision": invocation.decision,
        "reason": invocation.reason,
    }
    if isinstance(invocation.output, dict):
        result["output"] = invocation.output
    return result


def _announced_events(calls: list[AwsCall], region: str) -> Iterator[dict[str, Any]]:
    """What a function put on a bus, as EventBridge would deliver it to the rules there."""
    for call in calls:
        if call.service != "events" or call.operation != "PutEvents" or call.error:
            continue
        for entry in call.raw_params.get("Entries", []):
            try:
                detail = json.loads(entry.get("Detail", "{}"))
            except json.JSONDecodeError:
                continue
            yield {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": entry.get("DetailType", ""),
                "source": entry.get("Source", ""),
                "account": LOCAL_ACCOUNT_ID,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region,
                "resources": entry.get("Resources", []),
                "detail": detail,
                "_bus": entry.get("EventBusName", "default"),
            }


def _emails(calls: list[AwsCall]) -> list[dict[str, Any]]:
    """Emails are SNS publishes; the notifier names the recipients in a ``recipient`` attribute."""
    emails = []
    for call in calls:
        if call.service != "sns" or call.operation != "Publish" or call.error:
            continue
        recipients = call.raw_params.get("MessageAttributes", {}).get("recipient", {}).get("StringValue")
        try:
            to = ", ".join(json.loads(recipients)) if recipients else ""
        except (json.JSONDecodeError, TypeError):
            to = str(recipients)
        emails.append(
            {
                "channel": "email",
                "to": to or call.raw_params.get("TopicArn", call.raw_params.get("TargetArn", "")),
                "summary": call.raw_params.get("Subject") or str(call.raw_params.get("Message", ""))[:120],
            }
        )
    return emails


def _overall(report: Report, event: dict[str, Any], kind: str, function: str | None) -> tuple[str, str]:
    if not report.handled_by:
        if kind == "codedeploy-hook":
            return (
                "ignored",
                "CodeDeploy invokes hook functions directly and this payload does not name the hook: "
                "pass --function (e.g. --function AfterAllowTestTraffic)",
            )
        what = (
            f"source '{event.get('source')}', detail-type '{event.get('detail-type')}'"
            if kind == "eventbridge"
            else kind
        )
        return "ignored", f"no rule or subscription in Tollgate-{report.environment} matches {what}"
    errors = [r for r in report.results if r["decision"] == "error"]
    if errors:
        return "error", "; ".join(f"{r['function']}: {r['reason']}" for r in errors)
    acting = [r for r in report.results if r["decision"] != "ignored"] or report.results[:1]
    first = acting[0]
    if len(report.results) == 1:
        return first["decision"], first["reason"]
    return first["decision"], "; ".join(f"{r['function']}: {r['decision']} ({r['reason']})" for r in report.results)


@contextmanager
def local_world(environment: str, *, synth_if_stale: bool = True) -> Iterator[LocalWorld]:
    """Bring one environment up on a fresh embedded AWS with a local Slack; tear both down on exit."""
    config = load_environment(environment)
    template = load_stack_template(environment, synth_if_stale=synth_if_stale)
    with ExitStack() as stack:
        embedded = stack.enter_context(EmbeddedAws(region=config.region))
        receiver = stack.enter_context(SlackReceiver())
        recorder = CallRecorder(current_function="tollgate-local")
        recorder.attach()
        try:
            seeded = seed_environment(config)
        except SeedError as error:
            raise LocalWorldError(str(error)) from error
        overrides = install_slack_secrets(receiver, config, aws_clients.client("secretsmanager"))
        install_webhook_secret(template.functions.values(), aws_clients.client("secretsmanager"))
        user = json.loads(
            aws_clients.client("secretsmanager").get_secret_value(SecretId=seeded.synthetic_user_secret_name)[
                "SecretString"
            ]
        )
        lms = stack.enter_context(LmsService(username=user["username"], password=user["password"]))
        overrides["TOLLGATE_SYNTHETICS_BASE_URL"] = lms.base_url
        local = deploy_locally(template, region=config.region, account=config.account)
        recorder.calls.clear()  # setup calls are not part of any replay
        slack = [lambda: [{"channel": "slack", "to": m.channel, "summary": m.text} for m in receiver.messages]]
        world = LocalWorld(config, embedded, template, local, recorder, slack, overrides, receiver)
        extensions.set_lambda_invoker(world.invoke_task)
        stack.callback(_stop_executions, world)
        yield world


def _stop_executions(world: LocalWorld) -> None:
    """No execution outlives its world: its next task would find no function (and a reset embedded AWS)."""
    extensions.set_lambda_invoker(None)
    stepfunctions = aws_clients.client("stepfunctions")
    for machine in world.stack.attributes.values():
        arn = machine.get("Arn", "")
        if ":states:" not in arn or ":stateMachine:" not in arn:
            continue
        for execution in stepfunctions.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
            stepfunctions.stop_execution(executionArn=execution["executionArn"], cause="the local world ended")


def environment_for(event: dict[str, Any], requested: str | None) -> str:
    if requested:
        return requested
    return infer_environment(event, load_all_environments()) or "development"
