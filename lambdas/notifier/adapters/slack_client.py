"""Adapter: post to Slack (incoming webhook or chat.postMessage) with bounded retries, stdlib only.

Retries: HTTP 429 waits the ``Retry-After`` seconds Slack asks for; 5xx and connection failures back
off exponentially. Neither waits past the function's deadline: a wait that would outlast it fails
the delivery now, so the use case can record it and let Lambda retry the event
(https://api.slack.com/apis/rate-limits). Other 4xx answers are permanent and not retried here.

At most once: only a failure that proves Slack did not take the message (it could not be sent, or
Slack answered an HTTP error) is a ``SlackDeliveryError`` and may be retried. Once the request went
out, an unreadable answer (a bad status line, a truncated body, the connection dropped or timing out
while waiting for the answer, a ``chat.postMessage`` answer that is not JSON) means the message may
have been posted: ``SlackUnconfirmedError``, never retried. urllib wraps what fails while connecting
and sending in ``URLError``; what fails while reading the answer reaches us unwrapped
(``http.client.HTTPException``, ``OSError``).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lambdas.core.observability import logger
from lambdas.notifier.errors import SlackDeliveryError, SlackUnconfirmedError
from lambdas.notifier.slack_message import SlackMessage

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_DEFAULT_RETRY_AFTER_SECONDS = 1.0
HISTORY_PAGE_SIZE = 200  # Slack's recommended page size for conversations.history
HISTORY_PAGES = 5


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    request_timeout_seconds: float = 5.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1)))


def check_slack_url(url: str) -> str:
    """Only https, or plain http to loopback (the local receiver): never file:// or another scheme."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return url
    raise SlackDeliveryError("Slack URL must be https (or http to loopback for local runs)")


@dataclass
class SlackHttp:
    """POSTs JSON, retrying within ``deadline`` (a ``clock`` value, by default ``time.monotonic``)."""

    deadline: float
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def post_json(self, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> bytes:
        data = json.dumps(payload).encode("utf-8")
        return self._post(url, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    def post_form(self, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> bytes:
        """Form-encoded: every Web API method accepts it (read methods do not all take JSON bodies)."""
        data = urllib.parse.urlencode({k: str(v) for k, v in payload.items()}).encode("ascii")
        return self._post(url, data, {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def _post(self, url: str, data: bytes, headers: Mapping[str, str]) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - scheme checked by check_slack_url
            check_slack_url(url), data=data, headers=dict(headers), method="POST"
        )
        attempt = 0
        while True:
            attempt += 1
            timeout = max(0.5, min(self.retry.request_timeout_seconds, self.deadline - self.clock()))
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
                    body: bytes = response.read()
                    return body
            except urllib.error.HTTPError as error:
                if error.code == 429:
                    wait, problem = _retry_after(error.headers), "rate limited (429)"
                elif error.code >= 500:
                    wait, problem = self.retry.backoff(attempt), f"server error ({error.code})"
                else:
                    raise SlackDeliveryError(f"Slack refused the message: HTTP {error.code} {_short(error)}") from error
                last: Exception = error
            except urllib.error.URLError as error:  # connecting or sending failed: Slack has nothing
                wait, problem, last = self.retry.backoff(attempt), f"unreachable ({_reason(error)})", error
            except (http.client.HTTPException, OSError, ValueError) as error:  # sent; the answer is unreadable
                raise SlackUnconfirmedError(
                    f"Slack's answer was unreadable ({type(error).__name__}); the message may have been posted"
                ) from error
            if attempt >= self.retry.max_attempts:
                raise SlackDeliveryError(f"Slack {problem} after {attempt} attempts") from last
            if self.clock() + wait > self.deadline:
                raise SlackDeliveryError(f"Slack {problem}; waiting {wait:.1f}s would outlast the function") from last
            self.sleep(wait)


class SlackWebhookSender:
    """Incoming webhooks: the secret maps channels to webhook URLs (or is one URL for all)."""

    uses_threads = False

    def __init__(self, http: SlackHttp, webhook_urls: Mapping[str, str]) -> None:
        self._http = http
        self._urls = webhook_urls

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str | None:
        url = self._urls.get(channel) or self._urls.get("*")
        if not url:
            raise SlackDeliveryError(f"no Slack webhook configured for {channel}")
        self._http.post_json(url, message.payload())
        return None


class SlackBotSender:
    """The Web API with a bot token: chat.postMessage (returns the ``ts`` so replies form a thread, and takes
    message metadata), chat.update and conversations.history.

    Slack answers most errors with HTTP 200 and ``{"ok": false, "error": "..."}``
    (https://docs.slack.dev/reference/methods/chat.postMessage/): nothing was posted, a SlackDeliveryError.
    chat.update needs the channel ID and the message's ``ts`` (https://docs.slack.dev/reference/methods/chat.update/);
    conversations.history with ``include_all_metadata`` returns each message's metadata
    (https://docs.slack.dev/reference/methods/conversations.history); both are Tier 3 (50+ a minute).
    """

    uses_threads = True

    def __init__(self, http: SlackHttp, token: str, api_url: str) -> None:
        self._http = http
        self._token = token
        self._api_url = api_url.rstrip("/")

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str | None:
        return self.post_message(channel, message, thread_ts=thread_ts, broadcast=broadcast)

    def post_message(
        self,
        channel: str,
        message: SlackMessage,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        payload: dict[str, Any] = {"channel": channel, "unfurl_links": False, **message.payload()}
        if thread_ts:
            payload["thread_ts"] = thread_ts
            payload["reply_broadcast"] = broadcast
        if metadata:
            payload["metadata"] = dict(metadata)
        answer = self._call("chat.postMessage", payload)
        ts = answer.get("ts")
        if not ts:
            raise SlackUnconfirmedError("chat.postMessage answered ok without a ts")
        return str(ts)

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        """Idempotent: an unreadable answer is retried like a refusal (the same update twice is one update)."""
        try:
            self._call("chat.update", {"channel": channel, "ts": ts, **message.payload()})
        except SlackUnconfirmedError as error:
            raise SlackDeliveryError(f"chat.update: {error}") from error

    def delete(self, channel: str, ts: str) -> None:
        """chat.delete of a message this bot posted (its ``chat:write`` scope allows that:
        https://docs.slack.dev/reference/methods/chat.delete); ``message_not_found`` means it is gone already."""
        try:
            self._call("chat.delete", {"channel": channel, "ts": ts})
        except SlackUnconfirmedError as error:
            raise SlackDeliveryError(f"chat.delete: {error}") from error
        except SlackDeliveryError as error:
            if "message_not_found" not in str(error):
                raise

    def find_message(self, channel: str, *, event_type: str, deployment_id: str, oldest: float) -> str | None:
        """The ``ts`` of the top-level message since ``oldest`` whose metadata names the deployment.

        Pages through the history (newest first) with Slack's cursor, up to ``HISTORY_PAGES`` pages of
        ``HISTORY_PAGE_SIZE``: a busy channel must not hide the message past the first page, which would post it
        a second time. conversations.history is Tier 3 (50+ requests a minute) for internal apps:
        https://docs.slack.dev/apis/web-api/rate-limits and https://docs.slack.dev/apis/web-api/pagination
        """
        query = {"channel": channel, "oldest": f"{oldest:.6f}", "include_all_metadata": "true"}
        cursor = ""
        for _ in range(HISTORY_PAGES):
            page = {**query, "limit": str(HISTORY_PAGE_SIZE), **({"cursor": cursor} if cursor else {})}
            try:
                answer = self._call("conversations.history", page, form=True)
            except SlackUnconfirmedError as error:
                raise SlackDeliveryError(f"conversations.history: {error}") from error
            found = _metadata_match(answer.get("messages"), event_type=event_type, deployment_id=deployment_id)
            if found is not None:
                return found
            metadata = answer.get("response_metadata")
            cursor = str(metadata.get("next_cursor") or "") if isinstance(metadata, dict) else ""
            if not answer.get("has_more") or not cursor:
                return None
        # Past that many messages the search gives up and the message is posted again: one message too many
        # beats a deployment that never shows (each retry would search again and fail the same way).
        logger.warning("living message not found in the history's first pages", extra={"pages": HISTORY_PAGES})
        return None

    def _call(self, method: str, payload: Mapping[str, Any], *, form: bool = False) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"}
        url = f"{self._api_url}/{method}"
        raw = self._http.post_form(url, payload, headers) if form else self._http.post_json(url, payload, headers)
        try:
            answer = json.loads(raw)
        except ValueError as error:
            raise SlackUnconfirmedError(f"{method} answered with something other than JSON") from error
        if not isinstance(answer, dict) or not answer.get("ok"):
            error_code = answer.get("error", "unknown") if isinstance(answer, dict) else "unknown"
            raise SlackDeliveryError(f"{method} failed: {error_code}")
        return answer


def _metadata_match(messages: object, *, event_type: str, deployment_id: str) -> str | None:
    for item in messages if isinstance(messages, list) else []:
        meta = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(meta, dict):
            continue
        payload = meta.get("event_payload")
        if (
            isinstance(payload, dict)
            and meta.get("event_type") == event_type
            and payload.get("deployment_id") == deployment_id
            and item.get("ts")
        ):
            return str(item["ts"])
    return None


def _retry_after(headers: Any) -> float:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else _DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        return _DEFAULT_RETRY_AFTER_SECONDS


def _reason(error: urllib.error.URLError) -> str:
    reason = error.reason
    return type(reason).__name__ if isinstance(reason, BaseException) else str(reason)[:80]


def _short(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(200).decode("utf-8", "replace")
    except OSError:
        return ""
