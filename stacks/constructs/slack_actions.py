"""Slack buttons: one function behind a Lambda function URL, Slack's interactivity request URL.

Built only when ``alerts.slack_signing_secret`` is configured. The URL's auth is NONE because Slack cannot
sign with IAM: the function verifies Slack's own signature (lambdas/slack_actions/signature.py) and refuses
anything else with 401. It reads only the signing secret, touches no table, and may put on Tollgate's bus
only the four operator requests and the refusal it records (docs/decisions/0101-slack-buttons.md).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, aws_lambda, aws_secretsmanager
from constructs import Construct

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import DetailType
from stacks.constructs.function import Access, TollgateFunction
from stacks.constructs.shared import SharedResources

SLACK_ACTIONS_HANDLER = "lambdas.slack_actions.handler.handler"
# Slack waits three seconds for the answer; the function does one PutEvents and one short reply.
SLACK_ACTIONS_TIMEOUT = Duration.seconds(5)
SLACK_ACTIONS_CONCURRENCY = 5
SLACK_ACTIONS_ACCESS = Access(
    announces=(
        DetailType.APPROVE_REQUESTED,
        DetailType.REJECT_REQUESTED,
        DetailType.CANARY_PROMOTE_REQUESTED,
        DetailType.CANARY_ABORT_REQUESTED,
        DetailType.APPROVAL_REFUSED,
    )
)


class SlackActions(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedResources, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        if not config.alerts.slack_signing_secret:
            raise ValueError("SlackActions needs alerts.slack_signing_secret")
        self.function = TollgateFunction(
            self,
            "Function",
            shared=shared,
            config=config,
            handler=SLACK_ACTIONS_HANDLER,
            description=f"Tollgate {config.name}: Slack button clicks (signed) to operator requests",
            timeout=SLACK_ACTIONS_TIMEOUT,
            memory_size=256,
            access=SLACK_ACTIONS_ACCESS,
        )
        function = self.function.function
        aws_secretsmanager.Secret.from_secret_name_v2(
            self, "SigningSecret", config.alerts.slack_signing_secret
        ).grant_read(function)
        self.url = function.add_function_url(auth_type=aws_lambda.FunctionUrlAuthType.NONE)
        # As the ledger's GitHub webhook: bound what a flood of unsigned requests can cost (each is refused in
        # milliseconds); people click a few buttons a day.
        function_resource = function.node.default_child
        if isinstance(function_resource, aws_lambda.CfnFunction):
            function_resource.reserved_concurrent_executions = SLACK_ACTIONS_CONCURRENCY
        CfnOutput(self, "InteractivityUrl", value=self.url.url, description="Slack app: Interactivity Request URL")
