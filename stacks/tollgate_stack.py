"""One Tollgate stack per LMS environment: the stack wires, the constructs build."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags, aws_lambda
from constructs import Construct

from lambdas.core.config import EnvironmentConfig, Hook, Strategy
from lambdas.hooks.naming import hook_function_name
from stacks.constructs.canary import CanaryController
from stacks.constructs.dashboard import Dashboard
from stacks.constructs.health import TollgateHealth
from stacks.constructs.hooks import DeploymentHooks
from stacks.constructs.ledger import Ledger
from stacks.constructs.notifier import Notifier
from stacks.constructs.rollback import Rollback
from stacks.constructs.shared import SharedFoundation
from stacks.constructs.slack_actions import SlackActions
from stacks.constructs.synthetics import Synthetics


class TollgateStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Tollgate: deployment safety for the LMS ({config.name})",
            **kwargs,
        )
        Tags.of(self).add("tollgate:environment", config.name)
        Tags.of(self).add("application", "tollgate")

        self.shared = SharedFoundation(self, "Shared", config=config).resources
        DeploymentHooks(self, "DeploymentHooks", shared=self.shared, config=config)
        rollback = Rollback(self, "Rollback", shared=self.shared, config=config)
        Notifier(self, "Notifier", shared=self.shared, config=config)
        if config.alerts.slack_signing_secret:
            SlackActions(self, "SlackActions", shared=self.shared, config=config)
        self.ledger = Ledger(self, "Ledger", shared=self.shared, config=config)
        self.synthetics = Synthetics(self, "Synthetics", shared=self.shared, config=config)
        self.canary = CanaryController(self, "Canary", shared=self.shared, config=config)
        functions = [c for c in self.node.find_all() if isinstance(c, aws_lambda.Function)]
        self.health = TollgateHealth(self, "Health", shared=self.shared, config=config, functions=functions)
        self.dashboard = Dashboard(
            self,
            "Dashboard",
            shared=self.shared,
            config=config,
            functions=functions,
            synthetics_alarms=list(self.synthetics.alarms.values()),
        )

        CfnOutput(self, "EventBusName", value=self.shared.event_bus.event_bus_name, description="Tollgate's bus")
        CfnOutput(self, "AlertTopicArn", value=self.shared.alert_topic.topic_arn, description="Email alerts")
        CfnOutput(self, "DeadLetterQueueUrl", value=self.shared.dead_letter_queue.queue_url)
        # What the LMS side needs for its second rollback path: each deployment group's alarm configuration
        # lists its service's composite alarm (`tollgate doctor` checks it).
        for service_name, alarms in rollback.service_alarms.items():
            CfnOutput(
                self,
                f"{service_name.title().replace('-', '')}CompositeAlarmName",
                value=alarms.service_unhealthy.alarm_name,
                description=f"Composite alarm the {service_name} deployment group stops and rolls back on",
            )
        # The hook functions the AppSpec names, under stable output keys the LMS pipeline can query
        # (`<Hook>HookFunctionName`; the constructs' own outputs carry hashed keys). `tollgate doctor` checks them.
        if config.deployment.strategy is not Strategy.ROLLING:
            for hook in Hook:
                CfnOutput(
                    self,
                    f"{hook.value}HookFunctionName",
                    value=hook_function_name(config.name, hook),
                    description=f"Function the AppSpec names for {hook.value}",
                )
