"""A local Slack: a real HTTP server on loopback that records what the notifier posts.

It answers incoming-webhook posts (``/webhook/<channel>``) and the Web API calls the notifier makes
(``/api/chat.postMessage``, ``/api/chat.update``, ``/api/chat.delete``, ``/api/conversations.history``)
like Slack does: the bearer token is checked (``invalid_auth``), channels are named by ID
(``register_channel``; a ``#name`` is accepted by chat.postMessage, as Slack does) or
``channel_not_found``, ``thread_ts`` must name a
message in the channel and chat.update's ``ts`` a message there (``message_not_found``), message
metadata is kept and returned by conversations.history with ``include_all_metadata``. Errors are
HTTP 200 with ``{"ok": false, "error": ...}`` (https://docs.slack.dev/reference/methods/chat.update/).
It checks the Block Kit limits Slack enforces, and can be told to fail: ``fail_next(n)`` answers HTTP 500,
``rate_limit_next(n, retry_after)`` answers 429 with ``Retry-After``, for the next ``n`` requests.

``notifications_sent(receiver, account=..., region=...)`` lists every notification sent (Slack
messages here, emails published to SNS in the embedded AWS) as ``{channel, to, summary}`` dicts for
the replay report.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from tollgate.local.serving import serve_in_thread

# A fake token: the local receiver checks chat.postMessage calls carry it.
LOCAL_BOT_TOKEN = "tollgate-local-bot-token"  # noqa: S105  # nosec B105

_BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image", "rich_text", "input", "file", "video"}


@dataclass(frozen=True)
class ReceivedSlackMessage:
    """One message Slack accepted: through a webhook (``via`` webhook) or ``chat.postMessage``.

    ``channel`` is the channel's name (as people read it), ``channel_id`` its ID; ``payload`` is what the
    message shows now, ``edits`` every earlier payload (oldest first) replaced by ``chat.update``.
    """

    via: str
    channel: str
    payload: dict[str, Any]
    ts: str
    channel_id: str = ""
    edits: tuple[dict[str, Any], ...] = ()

    @property
    def updates(self) -> int:
        return len(self.edits)

    @property
    def metadata(self) -> dict[str, Any] | None:
        value = self.payload.get("metadata")
        return value if isinstance(value, dict) else None

    @property
    def text(self) -> str:
        return str(self.payload.get("text", ""))

    @property
    def thread_ts(self) -> str | None:
        value = self.payload.get("thread_ts")
        return str(value) if value else None


@dataclass
class _Failures:
    status: int = 500
    remaining: int = 0
    retry_after: float | None = None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[ReceivedSlackMessage] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, status answered)
    failures: _Failures = field(default_factory=_Failures)
    ts_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    channels: dict[str, str] = field(default_factory=dict)  # ID -> name
    responses: list[dict[str, Any]] = field(default_factory=list)  # what was posted to a click's response_url


def block_kit_problems(payload: dict[str, Any]) -> list[str]:
    """What Slack would reject in a message payload (the limits Tollgate relies on)."""
    problems = []
    blocks = payload.get("blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 50:
        return ["blocks must be a list of at most 50"]
    for index, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in _BLOCK_TYPES:
            problems.append(f"block {index}: unknown type {kind!r}")
            continue
        text = block.get("text", {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        if kind == "header" and (len(text) > 150 or block["text"].get("type") != "plain_text"):
            problems.append(f"block {index}: header text must be plain_text of at most 150 characters")
        if kind == "section":
            fields = block.get("fields", [])
            if not text and not fields:
                problems.append(f"block {index}: section needs text or fields")
            if len(text) > 3000:
                problems.append(f"block {index}: section text over 3000 characters")
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                problems.append(f"block {index}: more than 10 fields or a field over 2000 characters")
        if kind == "actions" and not 0 < len(block.get("elements", [])) <= 25:
            problems.append(f"block {index}: actions needs 1..25 elements")
    return problems


class SlackReceiver:
    """Use as a context manager; URLs are valid while it runs."""

    def __init__(self, *, bot_token: str = LOCAL_BOT_TOKEN) -> None:
        self.bot_token = bot_token
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self._state, bot_token))
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SlackReceiver:
        if self._thread is None:
            self._thread = serve_in_thread(self._server, "slack-receiver")
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SlackReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What TOLLGATE_SLACK_API_URL is set to for chat.postMessage."""
        return f"{self.base_url}/api"

    def response_url(self, click_id: str = "1") -> str:
        """A click's ``response_url`` (ephemeral replies to the clicker land in ``responses``)."""
        return f"{self.base_url}/actions/{click_id}"

    @property
    def responses(self) -> list[dict[str, Any]]:
        with self._state.lock:
            return list(self._state.responses)

    def webhook_url(self, channel: str) -> str:
        return f"{self.base_url}/webhook/{channel.lstrip('#')}"

    def register_channel(self, name: str, channel_id: str | None = None) -> str:
        """Make a channel known by ID (as a workspace has it); returns the ID."""
        channel_id = channel_id or channel_id_for(name)
        with self._state.lock:
            self._state.channels[channel_id] = name
        return channel_id

    def webhook_secret_value(self, channels: list[str] | tuple[str, ...]) -> str:
        """The webhook secret's value for these channels (the notifier's channel -> URL map)."""
        return json.dumps({channel: self.webhook_url(channel) for channel in channels})

    # -- switches ---------------------------------------------------------------------------------
    def fail_next(self, count: int, *, status: int = 500) -> None:
        with self._state.lock:
            self._state.failures = _Failures(status=status, remaining=count)

    def rate_limit_next(self, count: int, *, retry_after: float = 1) -> None:
        with self._state.lock:
            self._state.failures = _Failures(status=429, remaining=count, retry_after=retry_after)

    # -- what arrived -------------------------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedSlackMessage]:
        with self._state.lock:
            return list(self._state.messages)

    def delete(self, ts: str) -> None:
        """A person deleting a message (chat.update then answers message_not_found)."""
        with self._state.lock:
            self._state.messages[:] = [m for m in self._state.messages if m.ts != ts]

    def top_level(self, channel: str) -> list[ReceivedSlackMessage]:
        """Messages in the channel itself (not thread replies), by name."""
        return [m for m in self.messages if m.channel == channel and not m.thread_ts]

    def replies(self, ts: str) -> list[ReceivedSlackMessage]:
        return [m for m in self.messages if m.thread_ts == ts]

    @property
    def requests(self) -> list[tuple[str, int]]:
        """Every request as (path, status answered), failures included."""
        with self._state.lock:
            return list(self._state.requests)

    def clear(self) -> None:
        with self._state.lock:
            self._state.messages.clear()
            self._state.requests.clear()


def _handler_for(state: _State, bot_token: str) -> type[BaseHTTPRequestHandler]:
    class _SlackRequestHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the recorded messages are the log."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with state.lock:
                failures = state.failures
                if failures.remaining > 0:
                    failures.remaining -= 1
                    state.requests.append((self.path, failures.status))
                    headers = {"Retry-After": f"{failures.retry_after:g}"} if failures.retry_after is not None else {}
                    self._answer(failures.status, b"rate_limited" if failures.status == 429 else b"error", headers)
                    return
                payload = self._parse(raw)
                if self.path.startswith("/webhook/"):
                    self._webhook(payload)
                elif self.path.startswith("/actions/") and isinstance(payload, dict):
                    state.responses.append(payload)
                    state.requests.append((self.path, 200))
                    self._answer(200, b"ok")
                elif self.path in _API_METHODS:
                    state.requests.append((self.path, 200))
                    self._json(self._api(self.path, payload))
                else:
                    state.requests.append((self.path, 404))
                    self._answer(404, b"no_service")

        def _parse(self, raw: bytes) -> Any:
            if "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                return dict(parse_qsl(raw.decode("utf-8", "replace")))
            try:
                return json.loads(raw)
            except ValueError:
                return None

        def _webhook(self, payload: Any) -> None:
            if not isinstance(payload, dict) or block_kit_problems(payload):
                state.requests.append((self.path, 400))
                self._answer(400, b"invalid_blocks" if isinstance(payload, dict) else b"invalid_payload")
                return
            channel = "#" + self.path.removeprefix("/webhook/")
            state.messages.append(ReceivedSlackMessage("webhook", channel, payload, _next_ts(state)))
            state.requests.append((self.path, 200))
            self._answer(200, b"ok")

        def _api(self, path: str, payload: Any) -> dict[str, Any]:
            if self.headers.get("Authorization") != f"Bearer {bot_token}":
                return {"ok": False, "error": "invalid_auth"}
            if not isinstance(payload, dict):
                return {"ok": False, "error": "invalid_arguments"}
            channel = _channel(state, payload.get("channel"), allow_name=path == "/api/chat.postMessage")
            if channel is None:
                return {"ok": False, "error": "channel_not_found"}
            channel_id, name = channel
            if path == "/api/conversations.history":
                return _history(state, channel_id, payload)
            if path == "/api/chat.delete":
                return _delete(state, channel_id, payload)
            if block_kit_problems(payload):
                return {"ok": False, "error": "invalid_blocks"}
            if path == "/api/chat.update":
                return _update(state, channel_id, payload)
            thread_ts = payload.get("thread_ts")
            if thread_ts and not any(m.ts == thread_ts and m.channel_id == channel_id for m in state.messages):
                return {"ok": False, "error": "thread_not_found"}
            ts = _next_ts(state)
            state.messages.append(ReceivedSlackMessage("chat.postMessage", name, payload, ts, channel_id))
            return {"ok": True, "channel": channel_id, "ts": ts}

        def _json(self, body: dict[str, Any]) -> None:
            self._answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return _SlackRequestHandler


_API_METHODS = ("/api/chat.postMessage", "/api/chat.update", "/api/chat.delete", "/api/conversations.history")
_KEPT_ON_UPDATE: tuple[str, ...] = ("metadata", "thread_ts", "channel")


def channel_id_for(name: str) -> str:
    """A stable, Slack-shaped channel ID for a channel name (local runs only)."""
    return f"C{zlib.crc32(name.encode()):010X}"


def _channel(state: _State, value: Any, *, allow_name: bool) -> tuple[str, str] | None:
    """(ID, name) of the channel a call names; chat.postMessage also takes a ``#name``, others only an ID."""
    if not isinstance(value, str) or not value:
        return None
    if value in state.channels:
        return value, state.channels[value]
    if allow_name and value.startswith("#"):
        by_name = next((cid for cid, name in state.channels.items() if name == value), None)
        return (by_name or channel_id_for(value)), value
    return None


def _delete(state: _State, channel_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """chat.delete: the message leaves the channel (``message_not_found`` when it is not there)."""
    ts = payload.get("ts")
    for index, message in enumerate(state.messages):
        if message.ts == ts and message.channel_id == channel_id:
            del state.messages[index]
            return {"ok": True, "channel": channel_id, "ts": ts}
    return {"ok": False, "error": "message_not_found"}


def _update(state: _State, channel_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    ts = payload.get("ts")
    for index, message in enumerate(state.messages):
        if message.ts == ts and message.channel_id == channel_id:
            # chat.update replaces what it is given; metadata and the thread stay with the message.
            kept: dict[str, Any] = {k: message.payload[k] for k in _KEPT_ON_UPDATE if k in message.payload}
            new_payload: dict[str, Any] = {**kept, **{k: v for k, v in payload.items() if k != "ts"}}
            state.messages[index] = dataclasses.replace(
                message, payload=new_payload, edits=(*message.edits, message.payload)
            )
            return {"ok": True, "channel": channel_id, "ts": ts, "text": payload.get("text", "")}
    return {"ok": False, "error": "message_not_found"}


def _history(state: _State, channel_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Top-level messages, newest first, a page of ``limit`` at a time (``cursor`` -> ``response_metadata``'s
    ``next_cursor``, empty on the last page); metadata only with include_all_metadata (as Slack)."""
    oldest = float(payload.get("oldest") or 0)
    limit = int(payload.get("limit") or 100)
    cursor = str(payload.get("cursor") or "")
    if cursor and not cursor.isdigit():
        return {"ok": False, "error": "invalid_cursor"}
    start = int(cursor or 0)
    with_metadata = str(payload.get("include_all_metadata", "")).lower() in ("true", "1")
    found = [m for m in state.messages if m.channel_id == channel_id and not m.thread_ts and float(m.ts) >= oldest]
    newest_first = list(reversed(found))
    messages = []
    for message in newest_first[start : start + limit]:
        item: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
        if with_metadata and message.metadata:
            item["metadata"] = message.metadata
        messages.append(item)
    more = start + limit < len(newest_first)
    return {
        "ok": True,
        "messages": messages,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _next_ts(state: _State) -> str:
    """Like Slack's: epoch seconds, then a counter making it unique (history's ``oldest`` compares them)."""
    return f"{int(time.time())}.{next(state.ts_counter):06d}"


def install_slack_secrets(receiver: SlackReceiver, config: Any, secretsmanager: Any) -> dict[str, str]:
    """Point an environment's Slack secrets at the receiver; returns the env vars the notifier needs.

    ``config`` is the EnvironmentConfig; ``secretsmanager`` a client on the embedded AWS.
    """
    channels = sorted({route.slack_channel for route in config.alerts.routes if route.slack_channel})
    for route in config.alerts.routes:
        if route.slack_channel:
            receiver.register_channel(route.slack_channel, route.slack_channel_id)
    values = {config.alerts.slack_webhook_secret: receiver.webhook_secret_value(channels)}
    if config.alerts.slack_bot_token_secret:
        values[config.alerts.slack_bot_token_secret] = receiver.bot_token
    if config.alerts.slack_signing_secret:
        from tollgate.local.slack_clicks import LOCAL_SIGNING_SECRET  # noqa: PLC0415 - only with buttons

        values[config.alerts.slack_signing_secret] = LOCAL_SIGNING_SECRET
    for name, value in values.items():
        try:
            secretsmanager.create_secret(Name=name, SecretString=value)
        except secretsmanager.exceptions.ResourceExistsException:
            secretsmanager.put_secret_value(SecretId=name, SecretString=value)
    return {"TOLLGATE_SLACK_API_URL": receiver.api_url}


def emails_sent(*, account: str, region: str) -> list[dict[str, Any]]:
    """Emails published to SNS topics in the embedded AWS (moto's in-process backend)."""
    from moto.sns.models import sns_backends  # noqa: PLC0415 - local tooling only, imported on use

    sent = []
    for topic_arn, topic in sns_backends[account][region].topics.items():
        for _message_id, message, subject, attributes, _group in topic.sent_notifications:
            sent.append(
                {
                    "topic_arn": topic_arn,
                    "subject": subject,
                    "body": message,
                    "recipients": _recipients(attributes or {}),
                }
            )
    return sent


def notifications_sent(
    receiver: SlackReceiver | None, *, account: str = "123456789012", region: str = "eu-west-1"
) -> list[dict[str, str]]:
    """Every notification sent, as ``{channel, to, summary}``: Slack messages, then emails."""
    sent = [
        {"channel": "slack", "to": message.channel, "summary": message.text}
        for message in (receiver.messages if receiver else [])
    ]
    for email in emails_sent(account=account, region=region):
        to = ", ".join(email["recipients"]) or f"subscribers of {email['topic_arn'].rsplit(':', 1)[-1]}"
        sent.append({"channel": "email", "to": to, "summary": email["subject"] or ""})
    return sent


def _recipients(attributes: dict[str, Any]) -> list[str]:
    attribute = attributes.get("recipient") or {}
    raw = attribute.get("Value", attribute.get("StringValue"))
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return [str(raw)]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
