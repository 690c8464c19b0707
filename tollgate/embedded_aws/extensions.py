"""Calls moto 5.2.5 lacks that Tollgate needs, patched into moto in this process.

moto's server runs as a thread of this process, so adding methods to moto's response classes (one
method per operation, named after it in snake case) and state to its backend objects is all it takes.
The shapes follow botocore's service models (``botocore/data/<service>/<version>/service-2.json``).
State lives on moto's own objects, so moto's reset API forgets it with everything else.

Sections, one per concern:

* fail fast: an operation moto does not implement answers a 400 ``NotImplemented`` error naming the
  operation instead of an HTTP 500 that botocore retries for seconds; a crash inside moto answers a
  400 ``EmbeddedAwsFailure`` (traceback logged) for the same reason;
* CodeDeploy: ``StopDeployment``, ``PutLifecycleEventHookExecutionStatus``, ``ContinueDeployment``,
  ``d-XXXXXXXXX`` deployment ids, ``previousRevision``/``rollbackInfo``/``errorInformation`` on
  deployments, ``alarmConfiguration`` and last deployments on deployment groups, and an in-process
  driver API (``set_deployment_status``, ``register_hook_execution``, ...) for the local CodeDeploy
  simulator and tests;
* CloudWatch: ``PutCompositeAlarm``, ``DescribeAlarms(AlarmTypes=...)`` and ``DescribeAlarmHistory``;
* ELBv2: ``pin_elbv2_ids`` makes the ARNs of named load balancers and target groups end in the ids the
  environment config names (``app/<name>/<id>``, ``targetgroup/<name>/<id>``), as CloudWatch sees them;
* Step Functions: executions run (moto's ASL interpreter, its ``execute_state_machine`` option), and a
  Lambda task reaches the in-process handler that ``set_lambda_invoker`` names instead of moto's Lambda
  (which would need Docker).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import secrets
import string
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch import exceptions as cloudwatch_exceptions
from moto.cloudwatch import models as cloudwatch_models
from moto.cloudwatch import responses as cloudwatch_responses
from moto.codedeploy import models as codedeploy_models
from moto.codedeploy import responses as codedeploy_responses
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.elbv2 import models as elbv2_models
from moto.elbv2 import utils as elbv2_utils
from werkzeug.exceptions import HTTPException

_log = logging.getLogger(__name__)
_install_lock = threading.Lock()
_state_lock = threading.RLock()


@dataclass
class _Switches:
    installed: bool = False
    # Rollback deployments created by a stop finish at once unless a simulator plays them.
    rollbacks_complete_immediately: bool = True


_switches = _Switches()


def install() -> None:
    """Patch moto's response classes and models; idempotent."""
    with _install_lock:
        if _switches.installed:
            return
        _install_fail_fast()
        _install_codedeploy()
        _install_cloudwatch()
        _install_elbv2()
        _install_ecs_task_definition_sort()
        _install_stepfunctions()
        _switches.installed = True


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------------
# Fail fast on operations moto does not implement
# ---------------------------------------------------------------------------------------------------

NOT_IMPLEMENTED_CODE = "NotImplemented"
EMBEDDED_AWS_FAILURE_CODE = "EmbeddedAwsFailure"


class _EmbeddedAwsRefusal(ServiceException):
    pass


def _install_fail_fast() -> None:
    original_call_action = BaseResponse.call_action

    def call_action(self: BaseResponse) -> Any:
        try:
            return original_call_action(self)
        except NotImplementedError as error:
            # moto raises NotImplementedError for unknown operations (and some unsupported options);
            # over the server that is an HTTP 500, which botocore retries with backoff for seconds.
            message = f"Tollgate's embedded AWS (moto) does not implement {_operation_name(self)} ({error}). "
            message += "Add it in tollgate/embedded_aws/extensions.py."
            return _refusal_response(self, NOT_IMPLEMENTED_CODE, message)
        except HTTPException:
            raise
        except Exception as error:
            # A crash inside moto is deterministic: retrying it only costs time. Keep the traceback.
            _log.exception("embedded AWS failed on %s", _operation_name(self))
            message = f"Tollgate's embedded AWS (moto) failed on {_operation_name(self)}: {type(error).__name__}: "
            message += str(error)
            return _refusal_response(self, EMBEDDED_AWS_FAILURE_CODE, message)

    BaseResponse.call_action = call_action  # type: ignore[method-assign]


def _operation_name(response: BaseResponse) -> str:
    service = response.service_name or "unknown"
    try:
        operation = response._get_action() or "unknown"
    except Exception:  # the request is already failing; any name will do
        operation = "unknown"
    return f"{service}:{operation}"


def _refusal_response(response: BaseResponse, code: str, message: str) -> Any:
    """A 400 error in the service's own protocol, so botocore parses the code and does not retry."""
    exception = _EmbeddedAwsRefusal(code, message)
    try:
        with warnings.catch_warnings():
            # moto warns that the code is not in the service's error shapes; that is the point.
            warnings.simplefilter("ignore", UserWarning)
            status, headers, body = response.serialized(ActionResult(exception))
    except Exception:  # the protocol serializer could not: plain JSON
        body = json.dumps({"__type": NOT_IMPLEMENTED_CODE, "message": message})
        return (
            400,
            {"status": "400", "Content-Type": "application/json", "X-Amzn-ErrorType": NOT_IMPLEMENTED_CODE},
            body,
        )
    headers["status"] = str(status)
    return status, headers, body


# ---------------------------------------------------------------------------------------------------
# CodeDeploy
# ---------------------------------------------------------------------------------------------------

DEPLOYMENT_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready")
TERMINAL_DEPLOYMENT_STATUSES = frozenset({"Succeeded", "Failed", "Stopped"})
HOOK_REPORT_STATUSES = frozenset({"Succeeded", "Failed"})
DEPLOYMENT_WAIT_TYPES = ("READY_WAIT", "TERMINATION_WAIT")
ROLLBACK_CREATOR = "codeDeployRollback"


class EmbeddedCodeDeployError(Exception):
    """A driver call the embedded CodeDeploy cannot honour."""


class DeploymentNotFoundError(EmbeddedCodeDeployError, LookupError):
    """No deployment with this id exists in the embedded AWS."""


class DeploymentAlreadyCompletedError(EmbeddedCodeDeployError):
    """The deployment already reached Succeeded, Failed or Stopped."""


class InvalidDeploymentStatusError(EmbeddedCodeDeployError, ValueError):
    """The status is not one CodeDeploy knows."""


class HookExecutionNotFoundError(EmbeddedCodeDeployError, LookupError):
    """No lifecycle hook execution with this id was registered for the deployment."""


class CodeDeployApiError(JsonRESTError):
    """An error answer of the embedded CodeDeploy API; ``error_type`` is AWS's error code."""

    code = 400

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)


@dataclass(frozen=True)
class HookStatusReport:
    """One PutLifecycleEventHookExecutionStatus call, accepted or refused."""

    deployment_id: str
    execution_id: str
    hook_name: str | None
    status: str
    accepted: bool
    error_code: str | None
    reported_at: datetime


@dataclass
class HookExecution:
    """A lifecycle hook the driver invoked; ``status`` is Pending until the hook reports."""

    execution_id: str
    hook_name: str
    status: str = "Pending"
    registered_at: datetime = field(default_factory=_utcnow)


@dataclass(frozen=True)
class StopResult:
    """What stopping a deployment did."""

    status: str  # StopDeployment's answer: Pending (rollback still running) or Succeeded
    status_message: str
    rollback_deployment_id: str | None


@dataclass
class _DeploymentExtras:
    """Tollgate's additions to one moto DeploymentInfo (kept on the object itself)."""

    previous_revision: dict[str, Any] | None = None
    error_information: dict[str, str] | None = None
    rollback_info: dict[str, str] | None = None
    hook_executions: dict[str, HookExecution] = field(default_factory=dict)
    hook_reports: list[HookStatusReport] = field(default_factory=list)
    continue_requests: list[str] = field(default_factory=list)


_EXTRAS_ATTRIBUTE = "_tollgate_extras"


def _extras(deployment: Any) -> _DeploymentExtras:
    extras: _DeploymentExtras = deployment.__dict__.setdefault(_EXTRAS_ATTRIBUTE, _DeploymentExtras())
    return extras


def _codedeploy_backends() -> Iterator[Any]:
    # dict.values() on moto's BackendDicts lists only the backends already created (no side effects).
    for account_backends in dict.values(codedeploy_models.codedeploy_backends):
        yield from dict.values(account_backends)


def _find_deployment(deployment_id: str) -> tuple[Any, Any]:
    for backend in _codedeploy_backends():
        deployment = backend.deployments.get(deployment_id)
        if deployment is not None:
            return backend, deployment
    raise DeploymentNotFoundError(f"no deployment {deployment_id!r} in the embedded AWS")


def _new_deployment_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "d-" + "".join(secrets.choice(alphabet) for _ in range(9))


def _new_hook_execution_id() -> str:
    # Real ids are opaque base64 blobs; tests must not parse them, so neither do we.
    blob = {
        "encryptedData": secrets.token_urlsafe(48),
        "ivParameterSpec": secrets.token_urlsafe(16),
        "materialSetSerial": 1,
    }
    return base64.b64encode(json.dumps(blob, separators=(",", ":")).encode()).decode()


def _effective_auto_rollback(deployment: Any) -> dict[str, Any]:
    return deployment.auto_rollback_configuration or deployment.deployment_group.auto_rollback_configuration or {}


def _rolls_back_on(deployment: Any, event: str) -> bool:
    config = _effective_auto_rollback(deployment)
    return bool(config.get("enabled")) and event in (config.get("events") or [])


def _mark_status(deployment: Any, status: str) -> None:
    now = _utcnow()
    if status != "Created" and deployment.start_time is None:
        deployment.start_time = now
    if status in TERMINAL_DEPLOYMENT_STATUSES:
        deployment.complete_time = now
    deployment.status = status


# -- the in-process driver API -------------------------------------------------------------------------


def deployment_status(deployment_id: str) -> str:
    """The deployment's current status, as GetDeployment reports it."""
    with _state_lock:
        return str(_find_deployment(deployment_id)[1].status)


def set_deployment_status(
    deployment_id: str,
    status: str,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    status_message: str | None = None,
) -> None:
    """Move a deployment to ``status`` (the simulator plays CodeDeploy's lifecycle with this).

    Terminal statuses set ``completeTime``; ``error_code``/``error_message`` become the deployment's
    ``errorInformation`` (codes from CodeDeploy's ErrorCode enum, e.g. ``HOOK_EXECUTION_FAILURE``).
    A deployment that already completed cannot move again.
    """
    if status not in DEPLOYMENT_STATUSES:
        raise InvalidDeploymentStatusError(
            f"{status!r} is not a CodeDeploy status; expected one of {DEPLOYMENT_STATUSES}"
        )
    with _state_lock:
        _, deployment = _find_deployment(deployment_id)
        if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
            raise DeploymentAlreadyCompletedError(f"deployment {deployment_id} is already {deployment.status}")
        _mark_status(deployment, status)
        if error_code is not None:
            _extras(deployment).error_information = {"code": error_code, "message": error_message or error_code}
        if status_message is not None:
            deployment.deployment_status_messages.append(status_message)


def register_hook_execution(deployment_id: str, hook_name: str, *, execution_id: str | None = None) -> str:
    """Open a lifecycle hook execution (e.g. ``BeforeAllowTraffic``) and return its execution id.

    ``execution_id`` keeps a given id (replaying a recorded hook payload); by default one is made up.
    """
    with _state_lock:
        _, deployment = _find_deployment(deployment_id)
        if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
            raise DeploymentAlreadyCompletedError(f"deployment {deployment_id} is already {deployment.status}")
        execution = HookExecution(execution_id=execution_id or _new_hook_execution_id(), hook_name=hook_name)
        _extras(deployment).hook_executions[execution.execution_id] = execution
        return execution.execution_id


def adopt_deployment_id(deployment_id: str, wanted_id: str) -> str:
    """Give a created deployment the id a recorded event names, so the event can be replayed as sent."""
    with _state_lock:
        backend, deployment = _find_deployment(deployment_id)
        if wanted_id in backend.deployments:
            raise InvalidDeploymentStatusError(f"deployment {wanted_id} already exists")
        del backend.deployments[deployment_id]
        deployment.deployment_id = wanted_id
        backend.deployments[wanted_id] = deployment
        return wanted_id


def hook_execution_status(deployment_id: str, execution_id: str) -> str:
    """``Pending`` until the hook reports, then ``Succeeded`` or ``Failed``."""
    with _state_lock:
        _, deployment = _find_deployment(deployment_id)
        execution = _extras(deployment).hook_executions.get(execution_id)
        if execution is None:
            raise HookExecutionNotFoundError(f"no hook execution {execution_id!r} for deployment {deployment_id}")
        return execution.status


def hook_executions(deployment_id: str) -> list[HookExecution]:
    """Every hook execution registered for the deployment, in registration order (copies)."""
    with _state_lock:
        _, deployment = _find_deployment(deployment_id)
        return [HookExecution(**vars(e)) for e in _extras(deployment).hook_executions.values()]


def reported_hook_statuses(deployment_id: str) -> list[HookStatusReport]:
    """Every PutLifecycleEventHookExecutionStatus call made for the deployment, refused ones included."""
    with _state_lock:
        _, deployment = _find_deployment(deployment_id)
        return list(_extras(deployment).hook_reports)


def continue_requests(deployment_id: str) -> list[str]:
    """The ``deploymentWaitType`` of every accepted ContinueDeployment call, in order."""
    with _state_lock:
        _, deployment = _find_deployment(deployment_id)
        return list(_extras(deployment).continue_requests)


def set_rollback_completion(*, immediate: bool) -> None:
    """Whether rollback deployments created by a stop finish at once (default) or stay InProgress.

    A simulator that plays the rollback (traffic back to blue) turns this off and completes the
    rollback deployment with ``set_deployment_status``.
    """
    _switches.rollbacks_complete_immediately = immediate


def stop_deployment(
    deployment_id: str,
    *,
    auto_rollback: bool | None = None,
    error_code: str = "MANUAL_STOP",
    error_message: str | None = None,
) -> StopResult:
    """Stop a deployment like CodeDeploy does; with rollback, start a ``codeDeployRollback`` deployment.

    ``auto_rollback=None`` follows the deployment's auto-rollback configuration (the deployment's
    override, else its group's) for DEPLOYMENT_STOP_ON_REQUEST, or DEPLOYMENT_STOP_ON_ALARM when
    ``error_code`` is ``ALARM_ACTIVE``.
    """
    with _state_lock:
        backend, deployment = _find_deployment(deployment_id)
        if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
            raise DeploymentAlreadyCompletedError(f"deployment {deployment_id} is already {deployment.status}")
        if auto_rollback is None:
            event = "DEPLOYMENT_STOP_ON_ALARM" if error_code == "ALARM_ACTIVE" else "DEPLOYMENT_STOP_ON_REQUEST"
            auto_rollback = _rolls_back_on(deployment, event)
        extras = _extras(deployment)
        _mark_status(deployment, "Stopped")
        extras.error_information = {
            "code": error_code,
            "message": error_message or f"The deployment {deployment_id} was stopped ({error_code}).",
        }
        if not auto_rollback:
            return StopResult("Succeeded", f"Deployment {deployment_id} stopped without rollback.", None)
        rollback_id = _create_rollback_deployment(backend, deployment)
        extras.rollback_info = {
            "rollbackDeploymentId": rollback_id,
            "rollbackMessage": f"Deployment {deployment_id} was stopped; rollback deployment {rollback_id} restores "
            "the original task set.",
        }
        stop_status = "Succeeded" if _switches.rollbacks_complete_immediately else "Pending"
        return StopResult(
            stop_status, f"Deployment {deployment_id} stopped; rolling back with {rollback_id}.", rollback_id
        )


def fail_deployment(
    deployment_id: str, *, error_code: str = "HOOK_EXECUTION_FAILURE", error_message: str | None = None
) -> str | None:
    """Fail a deployment; when its auto rollback covers DEPLOYMENT_FAILURE, return the rollback's id."""
    with _state_lock:
        backend, deployment = _find_deployment(deployment_id)
        if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
            raise DeploymentAlreadyCompletedError(f"deployment {deployment_id} is already {deployment.status}")
        _mark_status(deployment, "Failed")
        extras = _extras(deployment)
        extras.error_information = {
            "code": error_code,
            "message": error_message or f"Deployment failed ({error_code}).",
        }
        if not _rolls_back_on(deployment, "DEPLOYMENT_FAILURE"):
            return None
        rollback_id = _create_rollback_deployment(backend, deployment)
        extras.rollback_info = {
            "rollbackDeploymentId": rollback_id,
            "rollbackMessage": f"Deployment {deployment_id} failed; rollback deployment {rollback_id} restores "
            "the original task set.",
        }
        return rollback_id


def _create_rollback_deployment(backend: Any, deployment: Any) -> str:
    previous = _extras(deployment).previous_revision
    rollback_id: str = backend.create_deployment(
        application_name=deployment.application_name,
        deployment_group_name=deployment.deployment_group_name,
        revision=previous or deployment.revision,
        deployment_config_name=deployment.deployment_config_name,
        description=f"Rollback of {deployment.deployment_id}",
    )
    rollback = backend.deployments[rollback_id]
    rollback.creator = ROLLBACK_CREATOR
    _extras(rollback).rollback_info = {"rollbackTriggeringDeploymentId": deployment.deployment_id}
    _mark_status(rollback, "Succeeded" if _switches.rollbacks_complete_immediately else "InProgress")
    return rollback_id


# -- the API operations ---------------------------------------------------------------------------------


def _deployment_for_request(backend: Any, deployment_id: str | None) -> Any:
    if not deployment_id:
        raise CodeDeployApiError("DeploymentIdRequiredException", "At least one deployment ID must be specified.")
    deployment = backend.deployments.get(deployment_id)
    if deployment is None:
        raise CodeDeployApiError(
            "DeploymentDoesNotExistException", f"The deployment {deployment_id} could not be found."
        )
    return deployment


def _codedeploy_stop_deployment(self: Any) -> ActionResult:
    deployment_id = self._get_param("deploymentId")
    auto_rollback = self._get_param("autoRollbackEnabled")
    with _state_lock:
        deployment = _deployment_for_request(self.codedeploy_backend, deployment_id)
        if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
            raise CodeDeployApiError(
                "DeploymentAlreadyCompletedException", f"The deployment {deployment_id} has already completed."
            )
        result = stop_deployment(deployment_id, auto_rollback=auto_rollback)
    return ActionResult({"status": result.status, "statusMessage": result.status_message})


def _codedeploy_put_lifecycle_event_hook_execution_status(self: Any) -> ActionResult:
    deployment_id = self._get_param("deploymentId")
    execution_id = self._get_param("lifecycleEventHookExecutionId")
    status = self._get_param("status")
    with _state_lock:
        deployment = _deployment_for_request(self.codedeploy_backend, deployment_id)
        extras = _extras(deployment)
        execution = extras.hook_executions.get(execution_id or "")
        error = _hook_report_error(deployment, execution, status)
        extras.hook_reports.append(
            HookStatusReport(
                deployment_id=deployment_id,
                execution_id=execution_id or "",
                hook_name=execution.hook_name if execution else None,
                status=status or "",
                accepted=error is None,
                error_code=error.error_type if error else None,
                reported_at=_utcnow(),
            )
        )
        if error is not None:
            raise error
        if execution is not None:  # always: _hook_report_error refuses a missing execution
            execution.status = status
    return ActionResult({"lifecycleEventHookExecutionId": execution_id})


def _hook_report_error(
    deployment: Any, execution: HookExecution | None, status: str | None
) -> CodeDeployApiError | None:
    if execution is None:
        return CodeDeployApiError(
            "InvalidLifecycleEventHookExecutionIdException",
            f"The lifecycle event hook execution ID is not valid for deployment {deployment.deployment_id}.",
        )
    if status not in HOOK_REPORT_STATUSES:
        return CodeDeployApiError(
            "InvalidLifecycleEventHookExecutionStatusException",
            f"The status {status!r} is not valid; a hook reports Succeeded or Failed.",
        )
    if execution.status != "Pending":
        return CodeDeployApiError(
            "LifecycleEventAlreadyCompletedException",
            f"The lifecycle event {execution.hook_name} of deployment {deployment.deployment_id} already completed "
            f"with status {execution.status}.",
        )
    if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
        return CodeDeployApiError(
            "LifecycleEventAlreadyCompletedException",
            f"The deployment {deployment.deployment_id} is already {deployment.status}; "
            f"its lifecycle event {execution.hook_name} can no longer change.",
        )
    return None


def _codedeploy_continue_deployment(self: Any) -> EmptyResult:
    deployment_id = self._get_param("deploymentId")
    wait_type = self._get_param("deploymentWaitType") or "READY_WAIT"
    with _state_lock:
        deployment = _deployment_for_request(self.codedeploy_backend, deployment_id)
        if wait_type not in DEPLOYMENT_WAIT_TYPES:
            raise CodeDeployApiError("InvalidDeploymentWaitTypeException", f"The wait type {wait_type!r} is not valid.")
        if deployment.status in TERMINAL_DEPLOYMENT_STATUSES:
            raise CodeDeployApiError(
                "DeploymentAlreadyCompletedException", f"The deployment {deployment_id} has already completed."
            )
        if wait_type == "READY_WAIT":
            if deployment.status != "Ready":
                raise CodeDeployApiError(
                    "DeploymentIsNotInReadyStateException",
                    f"The deployment {deployment_id} is {deployment.status}, not Ready.",
                )
            _mark_status(deployment, "InProgress")
        elif deployment.status != "InProgress":
            raise CodeDeployApiError(
                "InvalidDeploymentStatusException",
                f"The deployment {deployment_id} is {deployment.status}; only a deployment waiting to terminate "
                "the original task set can skip that wait.",
            )
        _extras(deployment).continue_requests.append(wait_type)
    return EmptyResult()


def _last_deployment_info(deployment: Any) -> dict[str, Any]:
    return {
        "deploymentId": deployment.deployment_id,
        "status": deployment.status,
        "endTime": deployment.complete_time,
        "createTime": deployment.create_time,
    }


def _codedeploy_get_deployment_group(self: Any) -> ActionResult:
    group = self.codedeploy_backend.get_deployment_group(
        application_name=self._get_param("applicationName"),
        deployment_group_name=self._get_param("deploymentGroupName"),
    )
    info = codedeploy_responses._deployment_group_info(group)
    # moto keeps the alarm configuration but answers {}: give back what was stored.
    info["alarmConfiguration"] = group.alarm_configuration or None
    in_group = sorted(
        (d for d in self.codedeploy_backend.deployments.values() if d.deployment_group is group),
        key=lambda d: d.create_time,
    )
    succeeded = [d for d in in_group if d.status == "Succeeded"]
    info["lastAttemptedDeployment"] = _last_deployment_info(in_group[-1]) if in_group else None
    info["lastSuccessfulDeployment"] = _last_deployment_info(succeeded[-1]) if succeeded else None
    info["targetRevision"] = None
    return ActionResult({"deploymentGroupInfo": info})


def _with_deployment_extras(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def deployment_info(deployment: Any) -> dict[str, Any]:
        info = original(deployment)
        extras = _extras(deployment)
        info["previousRevision"] = extras.previous_revision or None
        info["errorInformation"] = extras.error_information or None
        info["rollbackInfo"] = extras.rollback_info or None
        info["autoRollbackConfiguration"] = _effective_auto_rollback(deployment) or None
        info["creator"] = deployment.creator
        return info

    return deployment_info


def _install_codedeploy() -> None:
    info_class = codedeploy_models.DeploymentInfo
    original_init = info_class.__init__

    def init_with_real_id(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.deployment_id = _new_deployment_id()  # AWS ids look like d-ABCDEF123, not UUIDs

    info_class.__init__ = init_with_real_id  # type: ignore[method-assign]

    backend_class = codedeploy_models.CodeDeployBackend
    original_create = backend_class.create_deployment

    def create_deployment_remembering_previous(self: Any, *args: Any, **kwargs: Any) -> str:
        deployment_id: str = original_create(self, *args, **kwargs)
        deployment = self.deployments[deployment_id]
        succeeded = [
            d
            for d in self.deployments.values()
            if d.deployment_group is deployment.deployment_group and d.status == "Succeeded"
        ]
        if succeeded:
            _extras(deployment).previous_revision = max(succeeded, key=lambda d: d.create_time).revision
        return deployment_id

    backend_class.create_deployment = create_deployment_remembering_previous  # type: ignore[method-assign]

    codedeploy_responses._deployment_info = _with_deployment_extras(codedeploy_responses._deployment_info)  # type: ignore[assignment]
    response_class = codedeploy_responses.CodeDeployResponse
    response_class.stop_deployment = _codedeploy_stop_deployment  # type: ignore[attr-defined]
    response_class.put_lifecycle_event_hook_execution_status = (  # type: ignore[attr-defined]
        _codedeploy_put_lifecycle_event_hook_execution_status
    )
    response_class.continue_deployment = _codedeploy_continue_deployment  # type: ignore[attr-defined]
    response_class.get_deployment_group = _codedeploy_get_deployment_group  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# CloudWatch
# ---------------------------------------------------------------------------------------------------

_HISTORY_ATTRIBUTE = "_tollgate_history"


def _alarm_type(alarm: Any) -> str:
    return "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"


def _alarm_history(alarm: Any) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = alarm.__dict__.setdefault(_HISTORY_ATTRIBUTE, [])
    return history


def _record_history(alarm: Any, item_type: str, summary: str, data: dict[str, Any]) -> None:
    _alarm_history(alarm).append(
        {
            "AlarmName": alarm.name,
            "AlarmType": _alarm_type(alarm),
            "Timestamp": _utcnow(),
            "HistoryItemType": item_type,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        }
    )


def _cloudwatch_put_composite_alarm(self: Any) -> EmptyResult:
    name = self._get_param("AlarmName")
    rule = self._get_param("AlarmRule")
    if not name or not rule:
        raise cloudwatch_exceptions.ValidationError("AlarmName and AlarmRule are required.")
    alarm = self.cloudwatch_backend.put_metric_alarm(
        name=name,
        namespace=None,
        metric_name=None,
        comparison_operator=None,
        evaluation_periods=None,
        period=None,
        threshold=None,
        statistic=None,
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_param("ActionsEnabled"),
        rule=rule,
        tags=self._get_param("Tags", []),
    )
    alarm.actions_suppressor = self._get_param("ActionsSuppressor")
    alarm.actions_suppressor_wait_period = self._get_param("ActionsSuppressorWaitPeriod")
    alarm.actions_suppressor_extension_period = self._get_param("ActionsSuppressorExtensionPeriod")
    # PutCompositeAlarm: "the alarm state is immediately set to INSUFFICIENT_DATA"; nothing evaluates
    # the rule here, so it stays there until SetAlarmState changes it.
    alarm.state_value = "INSUFFICIENT_DATA"
    return EmptyResult()


def _with_alarm_types(original: Callable[[Any], ActionResult]) -> Callable[[Any], ActionResult]:
    def describe_alarms(self: Any) -> ActionResult:
        result = original(self)
        alarms = dict(result.result)  # type: ignore[call-overload]
        # DescribeAlarms: "If you omit this parameter, only metric alarms are returned".
        alarm_types = self._get_param("AlarmTypes") or ["MetricAlarm"]
        if "MetricAlarm" not in alarm_types:
            alarms["MetricAlarms"] = []
        if "CompositeAlarm" not in alarm_types:
            alarms["CompositeAlarms"] = []
        return ActionResult(alarms)

    return describe_alarms


def _as_utc(moment: datetime | None) -> datetime | None:
    # moto's parser hands back naive UTC datetimes.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _cloudwatch_describe_alarm_history(self: Any) -> ActionResult:
    backend = self.cloudwatch_backend
    name = self._get_param("AlarmName")
    alarm_types = self._get_param("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
    item_type = self._get_param("HistoryItemType")
    start = _as_utc(self._get_param("StartDate"))
    end = _as_utc(self._get_param("EndDate"))
    max_records = self._get_param("MaxRecords") or 100
    newest_first = (self._get_param("ScanBy") or "TimestampDescending") == "TimestampDescending"
    items = [
        item
        for alarm in backend.alarms.values()
        if (name is None or alarm.name == name)
        for item in _alarm_history(alarm)
        if item["AlarmType"] in alarm_types
        and (item_type is None or item["HistoryItemType"] == item_type)
        and (start is None or item["Timestamp"] >= start)
        and (end is None or item["Timestamp"] <= end)
    ]
    items.sort(key=lambda item: item["Timestamp"], reverse=newest_first)
    return ActionResult({"AlarmHistoryItems": items[: int(max_records)]})


def _install_cloudwatch() -> None:
    backend_class = cloudwatch_models.CloudWatchBackend
    original_put_metric_alarm = backend_class.put_metric_alarm
    alarm_class = cloudwatch_models.Alarm
    original_init = alarm_class.__init__
    original_update_state = alarm_class.update_state

    def put_alarm_keeping_history(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        # moto replaces the Alarm object on every put; AWS keeps the alarm's history across updates.
        earlier = self.alarms.get(name)
        alarm = original_put_metric_alarm(self, name, *args, **kwargs)
        if earlier is not None:
            alarm.__dict__[_HISTORY_ATTRIBUTE] = _alarm_history(earlier)
        verb = "updated" if earlier is not None else "created"
        _record_history(
            alarm, "ConfigurationUpdate", f'Alarm "{name}" {verb}', {"version": "1.0", "type": verb.capitalize()}
        )
        return alarm

    def init_with_history(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.state_transitioned_timestamp = self.state_updated_timestamp

    def update_state_with_history(self: Any, reason: str, reason_data: str, state_value: str) -> None:
        old = {"stateValue": self.state_value, "stateReason": self.state_reason}
        original_update_state(self, reason, reason_data, state_value)
        if old["stateValue"] != state_value:
            self.state_transitioned_timestamp = self.state_updated_timestamp
        new: dict[str, Any] = {"stateValue": state_value, "stateReason": reason}
        if reason_data:
            new["stateReasonData"] = json.loads(reason_data)
        _record_history(
            self,
            "StateUpdate",
            f"Alarm updated from {old['stateValue']} to {state_value}",
            {"version": "1.0", "oldState": old, "newState": new},
        )

    backend_class.put_metric_alarm = put_alarm_keeping_history  # type: ignore[method-assign]
    alarm_class.__init__ = init_with_history  # type: ignore[method-assign]
    alarm_class.update_state = update_state_with_history  # type: ignore[method-assign]

    statistics_class = cloudwatch_models.Statistics
    original_statistics = statistics_class.get_statistics_for_type

    def statistics_with_percentiles(self: Any, stat: str) -> Any:
        # moto 5.2 crashes on percentile statistics ("p99"); AWS answers nearest-rank percentiles.
        if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
            values = sorted(self.metric_single_values_list)
            if not values:
                return None
            rank = max(1, math.ceil(float(stat[1:]) / 100 * len(values)))
            return values[rank - 1]
        return original_statistics(self, stat)

    statistics_class.get_statistics_for_type = statistics_with_percentiles  # type: ignore[method-assign]

    response_class = cloudwatch_responses.CloudWatchResponse
    response_class.put_composite_alarm = _cloudwatch_put_composite_alarm  # type: ignore[attr-defined]
    response_class.describe_alarms = _with_alarm_types(response_class.describe_alarms)  # type: ignore[method-assign,assignment]
    response_class.describe_alarm_history = _cloudwatch_describe_alarm_history  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------
# ELBv2
# ---------------------------------------------------------------------------------------------------

_pinned_load_balancer_ids: dict[str, str] = {}
_pinned_target_group_ids: dict[str, str] = {}


def pin_elbv2_ids(*, load_balancers: dict[str, str] | None = None, target_groups: dict[str, str] | None = None) -> None:
    """Give load balancers / target groups created later under these names these 16-hex-digit ids.

    The environment config names them as CloudWatch does (``app/lms-staging/000000000000abc7``); with
    the ids pinned, the ARN suffix of the seeded resource is exactly that value.
    """
    with _state_lock:
        _pinned_load_balancer_ids.update(load_balancers or {})
        _pinned_target_group_ids.update(target_groups or {})


def _install_elbv2() -> None:
    make_load_balancer_arn = elbv2_utils.make_arn_for_load_balancer
    make_target_group_arn = elbv2_utils.make_arn_for_target_group

    def load_balancer_arn(account_id: str, lb_id: str, name: str, region_name: str) -> str:
        pinned = _pinned_load_balancer_ids.get(name, lb_id)
        return make_load_balancer_arn(account_id=account_id, lb_id=pinned, name=name, region_name=region_name)

    def target_group_arn(account_id: str, tg_id: str, name: str, region_name: str) -> str:
        pinned = _pinned_target_group_ids.get(name, tg_id)
        return make_target_group_arn(account_id=account_id, tg_id=pinned, name=name, region_name=region_name)

    # moto.elbv2.models imported these names from moto.elbv2.utils; replace them where they are used.
    setattr(elbv2_models, "make_arn_for_load_balancer", load_balancer_arn)  # noqa: B010
    setattr(elbv2_models, "make_arn_for_target_group", target_group_arn)  # noqa: B010


# ---------------------------------------------------------------------------------------------------
# ECS: ListTaskDefinitions honours ``sort`` (moto lists ascending whatever is asked)
# ---------------------------------------------------------------------------------------------------


def _install_ecs_task_definition_sort() -> None:
    """``sort=DESC`` lists the newest revision first, as ECS does (the rollback reads "the revision before").

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html
    """
    from moto.ecs import responses as ecs_responses  # noqa: PLC0415 - patched once, at install

    original = ecs_responses.EC2ContainerServiceResponse.list_task_definitions

    def list_task_definitions_sorted(self: Any) -> Any:
        result = original(self)
        if str(self._get_param("sort") or "ASC").upper() == "DESC":
            body = getattr(result, "result", None)
            arns = body.get("taskDefinitionArns") if isinstance(body, dict) else None
            if isinstance(arns, list):
                arns.reverse()
        return result

    ecs_responses.EC2ContainerServiceResponse.list_task_definitions = list_task_definitions_sorted  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# Step Functions: executions run, and their Lambda tasks reach in-process handlers
# ---------------------------------------------------------------------------------------------------

LambdaInvoker = Callable[[str, Any], tuple[Any, str | None]]
"""``invoke(function_name_or_arn, payload) -> (response payload, function error or None)``.

A function error is ``"Unhandled"`` with a payload ``{"errorType", "errorMessage"}``, as Lambda answers
an invocation whose handler raised; Step Functions names the task's error after ``errorType``."""


@dataclass
class _LambdaTasks:
    invoker: LambdaInvoker | None = None


_lambda_tasks = _LambdaTasks()


def set_lambda_invoker(invoker: LambdaInvoker | None) -> None:
    """Where the state machines' Lambda tasks go (one local world at a time); None: nowhere (the task fails)."""
    _lambda_tasks.invoker = invoker


def _install_stepfunctions() -> None:
    """moto interprets state machine definitions only with ``stepfunctions.execute_state_machine`` on.

    https://docs.getmoto.org/en/latest/docs/services/stepfunctions.html
    """
    from moto.core.config import default_user_config  # noqa: PLC0415 - patched once, at install
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
        lambda_eval_utils,
    )

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True

    def invoke_in_process(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        invoker = _lambda_tasks.invoker
        function = str(parameters.get("FunctionName", ""))
        raw = parameters.get("Payload")
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = raw
        if invoker is None:
            output: Any = {"errorType": "ResourceNotFoundException", "errorMessage": f"no local function {function}"}
            error: str | None = "Unhandled"
        else:
            output, error = invoker(function, payload)
        response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": output}
        if error:
            response["FunctionError"] = error
        return response

    lambda_eval_utils._invoke_lambda_function = invoke_in_process

    from moto.stepfunctions import responses as stepfunctions_responses  # noqa: PLC0415

    def send_task_failure_with_cause(self: Any) -> EmptyResult:
        # moto 5.2.5's response drops ``cause``; the task's Catch sees it in AWS.
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    stepfunctions_responses.StepFunctionResponse.send_task_failure = send_task_failure_with_cause  # type: ignore[method-assign]
