"""Adapter: the environment's Slack sender, from its secrets (bot token for threads, else webhooks)."""

from __future__ import annotations

from lambdas.core.config import Alerts
from lambdas.notifier.adapters.slack_client import RetryPolicy, SlackBotSender, SlackHttp, SlackWebhookSender
from lambdas.notifier.adapters.slack_secrets import bot_token, webhook_urls


class SecretsSlackConnector:
    """Reads the secret only when a Slack delivery is due (Powertools caches it for 300 s)."""

    def __init__(self, alerts: Alerts, api_url: str, retry: RetryPolicy | None = None) -> None:
        self._alerts = alerts
        self._api_url = api_url
        self._retry = retry or RetryPolicy()

    def sender(self, deadline: float) -> SlackBotSender | SlackWebhookSender:
        http = SlackHttp(deadline=deadline, retry=self._retry)
        if self._alerts.slack_bot_token_secret:
            return SlackBotSender(http, bot_token(self._alerts.slack_bot_token_secret), self._api_url)
        return SlackWebhookSender(http, webhook_urls(self._alerts.slack_webhook_secret))
