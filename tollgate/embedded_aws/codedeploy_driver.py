"""Play CodeDeploy's ECS blue/green lifecycle on the embedded AWS, as CodeDeploy would.

moto creates deployments and leaves them in ``Created``; this driver moves one through the
documented ECS order, invoking the AppSpec's hook functions and reading their reports:

  BeforeInstall -> (Install: replacement task set) -> AfterInstall -> (AllowTestTraffic) ->
  AfterAllowTestTraffic -> [Ready: wait for ContinueDeployment] -> BeforeAllowTraffic ->
  (AllowTraffic: production listener to the replacement) -> AfterAllowTraffic -> Succeeded

A hook that reports ``Failed`` (or never reports) fails the deployment; with auto rollback on
DEPLOYMENT_FAILURE, traffic goes back to the original target group. A deployment stopped while a hook
ran (StopDeployment from the alarm rollback) ends at once, with traffic restored. Traffic moves by
rewriting the weights of the listener rules that forward to the group's target group pair, the same
rules Tollgate's canary controller adjusts. State-change events (``CodeDeploy Deployment State-change
Notification``) go to an optional callback; routing them is the caller's business.

https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#appspec-hooks-ecs
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdas.core import aws
from tollgate.embedded_aws import extensions

HookInvoker = Callable[[str, str, dict[str, str]], None]
"""Called as ``invoke(hook_name, function_name, payload)``; payload is what CodeDeploy sends."""

EventSink = Callable[[dict[str, Any]], None]

WhileWaiting = Callable[[str, str], None]
"""Called as ``while_waiting(hook_name, deployment_id)`` between looks at a hook that has not reported yet."""

WAIT_POLL_SECONDS = 0.2
# While a state machine execution named for the deployment runs (the canary, the post-shift watch), the hook it
# holds is waited for without a clock: the execution reports at its own pace, slower on a loaded machine. This is
# only a guard against a hung embedded AWS, far above any local execution (their own timeouts end them sooner).
HUNG_EXECUTION_SECONDS = 900.0

HOOKS_BEFORE_READY = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic")
HOOKS_AFTER_READY = ("BeforeAllowTraffic", "AfterAllowTraffic")


class DriverError(Exception):
    """The deployment cannot be played (missing group, listener, AppSpec ...)."""


@dataclass(frozen=True)
class LifecycleStep:
    name: str  # a hook name, or Install / AllowTestTraffic / AllowTraffic / Ready
    outcome: str  # Succeeded | Failed | Skipped | Waiting
    detail: str = ""


@dataclass(frozen=True)
class DeploymentPlay:
    """What the driver did to one deployment."""

    deployment_id: str
    status: str  # the deployment's status when the driver stopped: Succeeded | Failed | Stopped | Ready
    steps: tuple[LifecycleStep, ...]
    rollback_deployment_id: str | None = None


@dataclass
class _Target:
    """The deployment group's wiring, resolved to ARNs."""

    application: str
    group: str
    cluster: str
    service: str
    original_target_group: str
    replacement_target_group: str
    production_rules: list[str]
    test_rules: list[str]
    task_definition: str
    container_name: str
    container_port: int
    hooks: dict[str, str]
    waits_for_approval: bool
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)


class CodeDeployEcsDriver:
    """Plays ECS blue/green deployments of the embedded AWS (one at a time, synchronously)."""

    def __init__(
        self,
        *,
        invoke_hook: HookInvoker,
        emit_event: EventSink | None = None,
        report_wait_seconds: float = 0.0,
        while_waiting: WhileWaiting | None = None,
    ) -> None:
        """``report_wait_seconds``: how long a hook that returned without reporting may take to report while no
        state machine execution named for the deployment runs (one that runs, such as the canary reporting
        BeforeAllowTraffic, is waited for); CodeDeploy itself waits up to an hour."""
        self._invoke_hook = invoke_hook
        self._emit_event = emit_event
        self._report_wait_seconds = report_wait_seconds
        self._while_waiting = while_waiting

    def play(self, deployment_id: str) -> DeploymentPlay:
        """Run a Created deployment until it succeeds, fails, is stopped, or waits in Ready."""
        target = self._resolve(deployment_id)
        steps: list[LifecycleStep] = []
        extensions.set_deployment_status(deployment_id, "InProgress")
        self._emit(deployment_id, target, "START")
        for hook in HOOKS_BEFORE_READY:
            ended = self._run_hook(deployment_id, target, hook, steps)
            if ended:
                return ended
            if hook == "BeforeInstall":
                self._install_replacement(target)
                steps.append(LifecycleStep("Install", "Succeeded", target.replacement_target_group))
            elif hook == "AfterInstall":
                self._route(target.test_rules, target, to_replacement=True)
                steps.append(LifecycleStep("AllowTestTraffic", "Succeeded" if target.test_rules else "Skipped"))
        if target.waits_for_approval:
            extensions.set_deployment_status(deployment_id, "Ready")
            self._emit(deployment_id, target, "READY")
            steps.append(LifecycleStep("Ready", "Waiting", "waiting for ContinueDeployment(READY_WAIT)"))
            return DeploymentPlay(deployment_id, "Ready", tuple(steps))
        return self._finish(deployment_id, target, steps)

    def resume(self, deployment_id: str) -> DeploymentPlay:
        """Go on after ContinueDeployment moved a Ready deployment back to InProgress."""
        status = extensions.deployment_status(deployment_id)
        if status != "InProgress" or "READY_WAIT" not in extensions.continue_requests(deployment_id):
            raise DriverError(f"deployment {deployment_id} is {status} and was not continued from Ready")
        target = self._resolve(deployment_id)
        return self._finish(deployment_id, target, [LifecycleStep("Ready", "Succeeded", "continued")])

    # -- lifecycle --------------------------------------------------------------------------------------

    def _finish(self, deployment_id: str, target: _Target, steps: list[LifecycleStep]) -> DeploymentPlay:
        ended = self._run_hook(deployment_id, target, "BeforeAllowTraffic", steps)
        if ended:
            return ended
        self._route(target.production_rules + target.test_rules, target, to_replacement=True)
        steps.append(LifecycleStep("AllowTraffic", "Succeeded", target.replacement_target_group))
        ended = self._run_hook(deployment_id, target, "AfterAllowTraffic", steps)
        if ended:
            return ended
        self._promote_replacement(target)
        extensions.set_deployment_status(deployment_id, "Succeeded")
        self._emit(deployment_id, target, "SUCCESS")
        return DeploymentPlay(deployment_id, "Succeeded", tuple(steps))

    def _run_hook(
        self, deployment_id: str, target: _Target, hook: str, steps: list[LifecycleStep]
    ) -> DeploymentPlay | None:
        """Invoke one hook; return the final play when the deployment ended, else None."""
        function_name = target.hooks.get(hook)
        if function_name is None:
            steps.append(LifecycleStep(hook, "Skipped", "no hook in the AppSpec"))
            return None
        execution_id = extensions.register_hook_execution(deployment_id, hook)
        payload = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}
        self._invoke_hook(hook, function_name, payload)
        outcome = self._await_report(deployment_id, execution_id, hook)
        if extensions.deployment_status(deployment_id) == "Stopped":
            # Stopped while the hook ran (StopDeployment): CodeDeploy reroutes to the original.
            self._restore_original(target)
            steps.append(LifecycleStep(hook, "Failed", "deployment stopped while the hook ran"))
            self._emit(deployment_id, target, "STOP")
            rollback = _rollback_id(deployment_id)
            return DeploymentPlay(deployment_id, "Stopped", tuple(steps), rollback)
        if outcome == "Succeeded":
            steps.append(LifecycleStep(hook, "Succeeded", function_name))
            return None
        detail = "reported Failed" if outcome == "Failed" else "never reported (CodeDeploy fails it after an hour)"
        steps.append(LifecycleStep(hook, "Failed", f"{function_name} {detail}"))
        self._restore_original(target)
        rollback = extensions.fail_deployment(
            deployment_id, error_code="HOOK_EXECUTION_FAILURE", error_message=f"{hook} hook {function_name} {detail}"
        )
        self._emit(deployment_id, target, "FAILURE")
        return DeploymentPlay(deployment_id, "Failed", tuple(steps), rollback)

    def _await_report(self, deployment_id: str, execution_id: str, hook: str) -> str:
        """The hook's status once it reported, the deployment was stopped, or the wait ran out (``Pending``)."""
        started = time.monotonic()
        holder: str | None = None  # the execution that holds the hook, once found: followed by its ARN
        while True:
            outcome = extensions.hook_execution_status(deployment_id, execution_id)
            if outcome != "Pending" or extensions.deployment_status(deployment_id) == "Stopped":
                return outcome
            waited = time.monotonic() - started
            if waited >= HUNG_EXECUTION_SECONDS:
                return outcome
            if waited >= self._report_wait_seconds:
                holder = _running_execution(deployment_id, holder)
                if holder is None:
                    return outcome
            if self._while_waiting is not None:
                self._while_waiting(hook, deployment_id)
            time.sleep(WAIT_POLL_SECONDS)

    # -- resources ----------------------------------------------------------------------------------------

    def _install_replacement(self, target: _Target) -> None:
        aws.client("ecs").create_task_set(
            cluster=target.cluster,
            service=target.service,
            taskDefinition=target.task_definition,
            launchType="FARGATE",
            loadBalancers=[
                {
                    "targetGroupArn": target.replacement_target_group,
                    "containerName": target.container_name,
                    "containerPort": target.container_port,
                }
            ],
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": target.subnets, "securityGroups": target.security_groups}
            },
            scale={"value": 100.0, "unit": "PERCENT"},
            externalId=f"codedeploy-{uuid.uuid4().hex[:8]}",
        )

    def _promote_replacement(self, target: _Target) -> None:
        ecs = aws.client("ecs")
        task_sets = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"][0].get(
            "taskSets", []
        )
        replacement = [t for t in task_sets if _serves(t, target.replacement_target_group)]
        if not replacement:
            return
        ecs.update_service_primary_task_set(
            cluster=target.cluster, service=target.service, primaryTaskSet=replacement[-1]["taskSetArn"]
        )
        # The original task set is terminated (the keep-blue wait is not simulated).
        for task_set in task_sets:
            if task_set["taskSetArn"] != replacement[-1]["taskSetArn"]:
                ecs.delete_task_set(cluster=target.cluster, service=target.service, taskSet=task_set["taskSetArn"])

    def _restore_original(self, target: _Target) -> None:
        self._route(target.production_rules + target.test_rules, target, to_replacement=False)
        ecs = aws.client("ecs")
        task_sets = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"][0].get(
            "taskSets", []
        )
        for task_set in task_sets:
            if task_set.get("status") != "PRIMARY" and _serves(task_set, target.replacement_target_group):
                ecs.delete_task_set(cluster=target.cluster, service=target.service, taskSet=task_set["taskSetArn"])

    def _route(self, rule_arns: list[str], target: _Target, *, to_replacement: bool) -> None:
        weights = {
            target.original_target_group: 0 if to_replacement else 100,
            target.replacement_target_group: 100 if to_replacement else 0,
        }
        elbv2 = aws.client("elbv2")
        for rule_arn in rule_arns:
            elbv2.modify_rule(
                RuleArn=rule_arn,
                Actions=[
                    {
                        "Type": "forward",
                        "ForwardConfig": {
                            "TargetGroups": [
                                {"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()
                            ]
                        },
                    }
                ],
            )

    def _emit(self, deployment_id: str, target: _Target, state: str) -> None:
        if self._emit_event is None:
            return
        region = aws.session().region_name or "eu-west-1"
        account = aws.client("sts").get_caller_identity()["Account"]
        self._emit_event(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "CodeDeploy Deployment State-change Notification",
                "source": "aws.codedeploy",
                "account": account,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region,
                "resources": [
                    f"arn:aws:codedeploy:{region}:{account}:application:{target.application}",
                    f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{target.application}/{target.group}",
                ],
                "detail": {
                    "region": region,
                    "deploymentId": deployment_id,
                    "instanceGroupId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{target.application}/{target.group}")),
                    "deploymentGroup": target.group,
                    "state": state,
                    "application": target.application,
                },
            }
        )

    # -- reading the deployment's wiring ------------------------------------------------------------------

    def _resolve(self, deployment_id: str) -> _Target:
        codedeploy = aws.client("codedeploy")
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        group = codedeploy.get_deployment_group(
            applicationName=info["applicationName"], deploymentGroupName=info["deploymentGroupName"]
        )["deploymentGroupInfo"]
        if not group.get("ecsServices") or not group.get("loadBalancerInfo", {}).get("targetGroupPairInfoList"):
            raise DriverError(f"deployment group {group['deploymentGroupName']} is not an ECS blue/green group")
        ecs_service = group["ecsServices"][0]
        pair = group["loadBalancerInfo"]["targetGroupPairInfoList"][0]
        names = [g["name"] for g in pair["targetGroups"]]
        elbv2 = aws.client("elbv2")
        arns = {
            g["TargetGroupName"]: g["TargetGroupArn"] for g in elbv2.describe_target_groups(Names=names)["TargetGroups"]
        }
        pair_arns = [arns[n] for n in names]
        production_rules = _forwarding_rules(pair["prodTrafficRoute"]["listenerArns"], pair_arns)
        if not production_rules:
            raise DriverError(f"no production listener rule forwards to {names}")
        test_rules = _forwarding_rules(pair.get("testTrafficRoute", {}).get("listenerArns", []), pair_arns)
        original = _serving_target_group(production_rules[0], pair_arns)
        replacement = next(a for a in pair_arns if a != original)
        spec = _appspec(info)
        properties = spec["Resources"][0]["TargetService"]["Properties"]
        service = aws.client("ecs").describe_services(
            cluster=ecs_service["clusterName"], services=[ecs_service["serviceName"]]
        )["services"][0]
        awsvpc = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
        ready = group.get("blueGreenDeploymentConfiguration", {}).get("deploymentReadyOption", {})
        return _Target(
            application=info["applicationName"],
            group=info["deploymentGroupName"],
            cluster=ecs_service["clusterName"],
            service=ecs_service["serviceName"],
            original_target_group=original,
            replacement_target_group=replacement,
            production_rules=production_rules,
            test_rules=test_rules,
            task_definition=properties["TaskDefinition"],
            container_name=properties["LoadBalancerInfo"]["ContainerName"],
            container_port=int(properties["LoadBalancerInfo"]["ContainerPort"]),
            hooks={name: fn for hook in spec.get("Hooks", []) for name, fn in hook.items()},
            waits_for_approval=ready.get("actionOnTimeout") == "STOP_DEPLOYMENT",
            subnets=list(awsvpc.get("subnets", [])),
            security_groups=list(awsvpc.get("securityGroups", [])),
        )


def _appspec(info: Mapping[str, Any]) -> dict[str, Any]:
    revision = info.get("revision", {})
    content = revision.get("appSpecContent", {}).get("content")
    if revision.get("revisionType") != "AppSpecContent" or not content:
        raise DriverError(f"deployment {info['deploymentId']} has no inline AppSpec (revisionType AppSpecContent)")
    try:
        spec: dict[str, Any] = json.loads(content)
        if "TaskDefinition" not in spec["Resources"][0]["TargetService"]["Properties"]:
            raise KeyError("TaskDefinition")
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise DriverError(
            f"deployment {info['deploymentId']}: the AppSpec is not a JSON ECS AppSpec ({error})"
        ) from error
    return spec


def _forwarding_rules(listener_arns: list[str], target_group_arns: list[str]) -> list[str]:
    elbv2 = aws.client("elbv2")
    found = []
    for listener_arn in listener_arns:
        for rule in elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]:
            forwards = [
                tg["TargetGroupArn"]
                for action in rule.get("Actions", [])
                for tg in action.get("ForwardConfig", {}).get("TargetGroups", [])
            ]
            if set(forwards) & set(target_group_arns):
                found.append(rule["RuleArn"])
    return found


def _serving_target_group(rule_arn: str, target_group_arns: list[str]) -> str:
    (rule,) = aws.client("elbv2").describe_rules(RuleArns=[rule_arn])["Rules"]
    weights = {
        tg["TargetGroupArn"]: tg.get("Weight", 0)
        for action in rule["Actions"]
        for tg in action.get("ForwardConfig", {}).get("TargetGroups", [])
    }
    return max(target_group_arns, key=lambda arn: weights.get(arn, 0))


def _serves(task_set: Mapping[str, Any], target_group_arn: str) -> bool:
    return any(lb.get("targetGroupArn") == target_group_arn for lb in task_set.get("loadBalancers", []))


def _rollback_id(deployment_id: str) -> str | None:
    info = aws.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    rollback: str | None = info.get("rollbackInfo", {}).get("rollbackDeploymentId")
    return rollback


def _running_execution(deployment_id: str, known: str | None) -> str | None:
    """The ARN of the state machine execution named for the deployment while it runs (it may yet report its
    hook): ``known`` looked at again (one DescribeExecution), or else found among the machines' executions."""
    stepfunctions = aws.client("stepfunctions")
    if known is not None:
        return known if stepfunctions.describe_execution(executionArn=known)["status"] == "RUNNING" else None
    for machine in stepfunctions.list_state_machines()["stateMachines"]:
        running = stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
        for execution in running["executions"]:
            if execution["name"] == deployment_id:
                return str(execution["executionArn"])
    return None
