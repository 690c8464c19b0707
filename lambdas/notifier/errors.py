"""The notifier's domain errors: one module, all deriving from TollgateError."""

from __future__ import annotations

from lambdas.core.errors import TollgateError


class NotifierSettingsError(TollgateError):
    """The function lacks an environment variable it cannot work without (the message names it)."""


class SlackDeliveryError(TollgateError):
    """Slack did not take the message: nothing was posted, so a later attempt may post it."""


class SlackUnconfirmedError(TollgateError):
    """The request reached Slack but its answer was unreadable: the message may have been posted.

    Never retried (Slack is at most once, docs/decisions/0050-deliveries.md).
    """


class SlackSecretError(SlackDeliveryError):
    """A Slack secret is missing or not in the expected shape (the message never holds its value)."""


class EmailDeliveryError(TollgateError):
    """SNS did not accept the email."""


class NotificationDeliveryError(TollgateError):
    """Some deliveries failed (the others went out and are recorded); raised so Lambda retries the event."""
