"""The embedded CodeDeploy's additions, through boto3 over HTTP as handlers see them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.core import aws
from tollgate.embedded_aws import extensions

APPLICATION = "lms-test"
GROUP = "lms-test-backend"
REVISION = {"revisionType": "AppSpecContent", "appSpecContent": {"content": '{"version": 0.0}'}}


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.fixture
def codedeploy(embedded_aws: Any) -> Any:
    return aws.client("codedeploy")


@pytest.fixture
def restore_rollback_completion() -> Iterator[None]:
    yield
    extensions.set_rollback_completion(immediate=True)


def _create_group(codedeploy: Any, *, rollback_events: tuple[str, ...] = ("DEPLOYMENT_FAILURE",)) -> None:
    codedeploy.create_application(applicationName=APPLICATION, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=APPLICATION,
        deploymentGroupName=GROUP,
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        alarmConfiguration={"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "lms-5xx"}]},
        autoRollbackConfiguration={"enabled": True, "events": list(rollback_events)},
    )


def _deploy(codedeploy: Any, revision: dict[str, Any] | None = None) -> str:
    deployment_id: str = codedeploy.create_deployment(
        applicationName=APPLICATION, deploymentGroupName=GROUP, revision=revision or REVISION
    )["deploymentId"]
    return deployment_id


@pytest.fixture
def deployment_id(codedeploy: Any) -> str:
    _create_group(codedeploy)
    return _deploy(codedeploy)


def test_install_is_idempotent() -> None:
    # Given the extensions are installed (the embedded AWS did it)
    extensions.install()
    patched = extensions.BaseResponse.call_action
    # When installing again
    extensions.install()
    # Then nothing is wrapped twice
    assert extensions.BaseResponse.call_action is patched


def test_deployment_ids_look_like_aws_ids(deployment_id: str) -> None:
    # Then the id has CodeDeploy's shape (hook events and console links carry it)
    assert re.fullmatch(r"d-[A-Z0-9]{9}", deployment_id)


# -- deployment status progress (the driver API) ---------------------------------------------------------


def test_driver_status_is_what_get_and_list_deployments_report(codedeploy: Any, deployment_id: str) -> None:
    # Given a second deployment left in Created
    still_created = _deploy(codedeploy)
    # When the driver moves the first to InProgress
    extensions.set_deployment_status(deployment_id, "InProgress", status_message="traffic shifting")
    # Then GetDeployment and ListDeployments(includeOnlyStatuses) see it
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "InProgress"
    assert "startTime" in info
    assert "completeTime" not in info
    assert info["deploymentStatusMessages"] == ["traffic shifting"]
    in_progress = codedeploy.list_deployments(
        applicationName=APPLICATION, deploymentGroupName=GROUP, includeOnlyStatuses=["InProgress"]
    )["deployments"]
    created = codedeploy.list_deployments(
        applicationName=APPLICATION, deploymentGroupName=GROUP, includeOnlyStatuses=["Created"]
    )["deployments"]
    assert in_progress == [deployment_id]
    assert created == [still_created]
    assert extensions.deployment_status(deployment_id) == "InProgress"


def test_driver_failure_records_error_information(codedeploy: Any, deployment_id: str) -> None:
    # When the driver fails the deployment because a hook failed
    extensions.set_deployment_status(
        deployment_id, "Failed", error_code="HOOK_EXECUTION_FAILURE", error_message="BeforeAllowTraffic failed"
    )
    # Then GetDeployment carries the error and the completion time
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"] == {"code": "HOOK_EXECUTION_FAILURE", "message": "BeforeAllowTraffic failed"}
    assert info["completeTime"] >= info["startTime"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("Rolling", extensions.InvalidDeploymentStatusError),
        ("InProgress", None),
    ],
)
def test_driver_validates_statuses(deployment_id: str, status: str, error: type[Exception] | None) -> None:
    # When the driver sets a status; Then only CodeDeploy's statuses are accepted
    if error is None:
        extensions.set_deployment_status(deployment_id, status)
        assert extensions.deployment_status(deployment_id) == status
    else:
        with pytest.raises(error):
            extensions.set_deployment_status(deployment_id, status)


def test_driver_refuses_to_move_a_completed_deployment(deployment_id: str) -> None:
    # Given a succeeded deployment
    extensions.set_deployment_status(deployment_id, "Succeeded")
    # When the driver tries to move it again; Then it refuses
    with pytest.raises(extensions.DeploymentAlreadyCompletedError):
        extensions.set_deployment_status(deployment_id, "InProgress")
    assert extensions.deployment_status(deployment_id) == "Succeeded"


def test_driver_names_unknown_deployments(embedded_aws: Any) -> None:
    with pytest.raises(extensions.DeploymentNotFoundError, match="d-UNKNOWN00"):
        extensions.set_deployment_status("d-UNKNOWN00", "InProgress")


def test_reset_forgets_driver_state(embedded_aws: Any, deployment_id: str) -> None:
    # Given a hook execution on a deployment
    extensions.register_hook_execution(deployment_id, "BeforeInstall")
    # When the embedded AWS is reset
    embedded_aws.reset()
    # Then the deployment and its records are gone
    with pytest.raises(extensions.DeploymentNotFoundError):
        extensions.reported_hook_statuses(deployment_id)


# -- StopDeployment ---------------------------------------------------------------------------------------


def test_stop_without_rollback(codedeploy: Any, deployment_id: str) -> None:
    # Given a deployment in progress
    extensions.set_deployment_status(deployment_id, "InProgress")
    # When it is stopped without rollback
    answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    # Then the stop succeeded and the deployment is Stopped by request, with nothing rolled back
    assert answer["status"] == "Succeeded"
    assert deployment_id in answer["statusMessage"]
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Stopped"
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    assert "rollbackInfo" not in info
    assert len(codedeploy.list_deployments(applicationName=APPLICATION, deploymentGroupName=GROUP)["deployments"]) == 1


def test_stop_with_rollback_creates_a_rollback_deployment(codedeploy: Any, deployment_id: str) -> None:
    # Given a deployment in progress
    extensions.set_deployment_status(deployment_id, "InProgress")
    # When it is stopped with auto rollback
    answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    # Then a codeDeployRollback deployment points back at it, and it points at the rollback
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]
    rollback = codedeploy.get_deployment(deploymentId=rollback_id)["deploymentInfo"]
    assert answer["status"] == "Succeeded"
    assert info["status"] == "Stopped"
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["rollbackInfo"] == {"rollbackTriggeringDeploymentId": deployment_id}
    assert rollback["status"] == "Succeeded"


@pytest.mark.usefixtures("restore_rollback_completion")
def test_stop_answers_pending_while_the_rollback_runs(codedeploy: Any, deployment_id: str) -> None:
    # Given a simulator that plays rollbacks itself
    extensions.set_rollback_completion(immediate=False)
    # When the deployment is stopped with rollback
    answer = codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    # Then the stop is Pending and the rollback deployment is in progress
    rollback_id = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["rollbackInfo"][
        "rollbackDeploymentId"
    ]
    assert answer["status"] == "Pending"
    assert extensions.deployment_status(rollback_id) == "InProgress"


@pytest.mark.parametrize(
    ("group_events", "rolls_back"),
    [
        (("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"), True),
        (("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"), False),
    ],
)
def test_stop_without_the_flag_follows_the_group(
    codedeploy: Any, group_events: tuple[str, ...], rolls_back: bool
) -> None:
    # Given a group whose auto rollback does or does not cover stops on request
    _create_group(codedeploy, rollback_events=group_events)
    deployment_id = _deploy(codedeploy)
    # When the deployment is stopped without saying whether to roll back
    codedeploy.stop_deployment(deploymentId=deployment_id)
    # Then the group's configuration decides
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert ("rollbackInfo" in info) is rolls_back


def test_stop_of_an_unknown_deployment(codedeploy: Any) -> None:
    with pytest.raises(ClientError) as error:
        codedeploy.stop_deployment(deploymentId="d-NOTHERE00", autoRollbackEnabled=True)
    assert _error_code(error) == "DeploymentDoesNotExistException"


@pytest.mark.parametrize("finished", ["Succeeded", "Failed", "Stopped"])
def test_stop_of_a_finished_deployment(codedeploy: Any, deployment_id: str, finished: str) -> None:
    # Given a finished deployment
    extensions.set_deployment_status(deployment_id, finished)
    # When it is stopped; Then CodeDeploy says it already completed and nothing changes
    with pytest.raises(ClientError) as error:
        codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert _error_code(error) == "DeploymentAlreadyCompletedException"
    assert extensions.deployment_status(deployment_id) == finished


def test_driver_alarm_stop_follows_stop_on_alarm(codedeploy: Any) -> None:
    # Given a group that rolls back on alarm stops
    _create_group(codedeploy, rollback_events=("DEPLOYMENT_STOP_ON_ALARM",))
    deployment_id = _deploy(codedeploy)
    # When the simulator stops it for an alarm
    result = extensions.stop_deployment(deployment_id, error_code="ALARM_ACTIVE", error_message="lms-5xx in ALARM")
    # Then it rolled back and the error names the alarm
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert result.rollback_deployment_id == info["rollbackInfo"]["rollbackDeploymentId"]
    assert info["errorInformation"] == {"code": "ALARM_ACTIVE", "message": "lms-5xx in ALARM"}


# -- PutLifecycleEventHookExecutionStatus -----------------------------------------------------------------


def test_hook_report_is_recorded(codedeploy: Any, deployment_id: str) -> None:
    # Given a BeforeAllowTraffic hook execution
    execution_id = extensions.register_hook_execution(deployment_id, "BeforeAllowTraffic")
    assert extensions.hook_execution_status(deployment_id, execution_id) == "Pending"
    # When the hook reports Succeeded
    answer = codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )
    # Then the answer echoes the execution id and the report is on record
    assert answer["lifecycleEventHookExecutionId"] == execution_id
    assert extensions.hook_execution_status(deployment_id, execution_id) == "Succeeded"
    reports = extensions.reported_hook_statuses(deployment_id)
    assert [(r.hook_name, r.status, r.accepted) for r in reports] == [("BeforeAllowTraffic", "Succeeded", True)]


def test_second_report_for_the_same_execution_is_refused(codedeploy: Any, deployment_id: str) -> None:
    # Given a hook that already reported Failed
    execution_id = extensions.register_hook_execution(deployment_id, "AfterAllowTestTraffic")
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Failed"
    )
    # When it reports again (a duplicated invocation)
    with pytest.raises(ClientError) as error:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )
    # Then AWS's answer comes back, the first report stands, and both calls are on record
    assert _error_code(error) == "LifecycleEventAlreadyCompletedException"
    assert extensions.hook_execution_status(deployment_id, execution_id) == "Failed"
    reports = extensions.reported_hook_statuses(deployment_id)
    assert [(r.status, r.accepted, r.error_code) for r in reports] == [
        ("Failed", True, None),
        ("Succeeded", False, "LifecycleEventAlreadyCompletedException"),
    ]


def test_reports_are_kept_per_execution(codedeploy: Any, deployment_id: str) -> None:
    # Given two hook executions of one deployment
    first = extensions.register_hook_execution(deployment_id, "BeforeInstall")
    second = extensions.register_hook_execution(deployment_id, "AfterInstall")
    # When each reports once
    for execution_id in (first, second):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )
    # Then both are accepted
    assert [r.execution_id for r in extensions.reported_hook_statuses(deployment_id) if r.accepted] == [first, second]
    assert [e.hook_name for e in extensions.hook_executions(deployment_id)] == ["BeforeInstall", "AfterInstall"]


@pytest.mark.parametrize(
    ("execution", "status", "code"),
    [
        ("unknown", "Succeeded", "InvalidLifecycleEventHookExecutionIdException"),
        ("registered", "Pending", "InvalidLifecycleEventHookExecutionStatusException"),
        ("registered", "InProgress", "InvalidLifecycleEventHookExecutionStatusException"),
    ],
)
def test_invalid_hook_reports(codedeploy: Any, deployment_id: str, execution: str, status: str, code: str) -> None:
    execution_id = extensions.register_hook_execution(deployment_id, "BeforeInstall")
    reported_id = execution_id if execution == "registered" else "bm90LWEtcmVhbC1pZA=="
    with pytest.raises(ClientError) as error:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=reported_id, status=status
        )
    assert _error_code(error) == code
    assert extensions.hook_execution_status(deployment_id, execution_id) == "Pending"


def test_hook_report_for_an_unknown_deployment(codedeploy: Any) -> None:
    with pytest.raises(ClientError) as error:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="d-NOTHERE00", lifecycleEventHookExecutionId="eA==", status="Succeeded"
        )
    assert _error_code(error) == "DeploymentDoesNotExistException"


def test_hook_report_after_the_deployment_stopped(codedeploy: Any, deployment_id: str) -> None:
    # Given a hook still running when the deployment was stopped
    execution_id = extensions.register_hook_execution(deployment_id, "BeforeAllowTraffic")
    codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    # When the hook reports; Then the lifecycle event can no longer change
    with pytest.raises(ClientError) as error:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Failed"
        )
    assert _error_code(error) == "LifecycleEventAlreadyCompletedException"


# -- ContinueDeployment -----------------------------------------------------------------------------------


def test_continue_a_ready_deployment(codedeploy: Any, deployment_id: str) -> None:
    # Given a deployment waiting in Ready for approval
    extensions.set_deployment_status(deployment_id, "Ready")
    # When an operator continues it
    codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    # Then traffic rerouting goes on
    assert extensions.deployment_status(deployment_id) == "InProgress"
    assert extensions.continue_requests(deployment_id) == ["READY_WAIT"]


def test_skip_the_termination_wait(codedeploy: Any, deployment_id: str) -> None:
    extensions.set_deployment_status(deployment_id, "InProgress")
    codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT")
    assert extensions.continue_requests(deployment_id) == ["TERMINATION_WAIT"]


@pytest.mark.parametrize(
    ("status", "wait_type", "code"),
    [
        ("InProgress", "READY_WAIT", "DeploymentIsNotInReadyStateException"),
        ("Created", "READY_WAIT", "DeploymentIsNotInReadyStateException"),
        ("Ready", "TERMINATION_WAIT", "InvalidDeploymentStatusException"),
        ("Succeeded", "READY_WAIT", "DeploymentAlreadyCompletedException"),
        ("Ready", "SOON", "InvalidDeploymentWaitTypeException"),
    ],
)
def test_continue_refusals(codedeploy: Any, deployment_id: str, status: str, wait_type: str, code: str) -> None:
    if status != "Created":
        extensions.set_deployment_status(deployment_id, status)
    with pytest.raises(ClientError) as error:
        codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType=wait_type)
    assert _error_code(error) == code
    assert extensions.deployment_status(deployment_id) == status
    assert extensions.continue_requests(deployment_id) == []


def test_continue_an_unknown_deployment(codedeploy: Any) -> None:
    with pytest.raises(ClientError) as error:
        codedeploy.continue_deployment(deploymentId="d-NOTHERE00")
    assert _error_code(error) == "DeploymentDoesNotExistException"


# -- deployment groups and revisions ------------------------------------------------------------------------


def test_deployment_group_keeps_alarm_and_rollback_configuration(codedeploy: Any) -> None:
    _create_group(codedeploy, rollback_events=("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"))
    info = codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName=GROUP)[
        "deploymentGroupInfo"
    ]
    assert info["alarmConfiguration"] == {
        "enabled": True,
        "ignorePollAlarmFailure": False,
        "alarms": [{"name": "lms-5xx"}],
    }
    assert info["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }


def test_deployment_group_reports_its_last_deployments(codedeploy: Any) -> None:
    # Given one succeeded deployment followed by one in progress
    _create_group(codedeploy)
    succeeded = _deploy(codedeploy)
    extensions.set_deployment_status(succeeded, "Succeeded")
    attempted = _deploy(codedeploy)
    extensions.set_deployment_status(attempted, "InProgress")
    # When the group is read
    info = codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName=GROUP)[
        "deploymentGroupInfo"
    ]
    # Then it names both
    assert info["lastSuccessfulDeployment"]["deploymentId"] == succeeded
    assert info["lastSuccessfulDeployment"]["status"] == "Succeeded"
    assert "endTime" in info["lastSuccessfulDeployment"]
    assert info["lastAttemptedDeployment"]["deploymentId"] == attempted
    assert info["lastAttemptedDeployment"]["status"] == "InProgress"


def test_new_deployment_names_the_previous_revision(codedeploy: Any) -> None:
    # Given a succeeded deployment of revision A and a failed one of revision B
    _create_group(codedeploy)
    revision_a = {"revisionType": "AppSpecContent", "appSpecContent": {"content": '{"release": "v1.4.1"}'}}
    revision_b = {"revisionType": "AppSpecContent", "appSpecContent": {"content": '{"release": "v1.5.0"}'}}
    extensions.set_deployment_status(_deploy(codedeploy, revision_a), "Succeeded")
    extensions.set_deployment_status(_deploy(codedeploy, revision_b), "Failed")
    # When a new deployment starts
    newest = _deploy(codedeploy, revision_b)
    # Then its previous revision is the last one that succeeded
    info = codedeploy.get_deployment(deploymentId=newest)["deploymentInfo"]
    assert info["previousRevision"] == revision_a
    assert info["autoRollbackConfiguration"]["events"] == ["DEPLOYMENT_FAILURE"]
