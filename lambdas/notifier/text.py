"""Text from the outside world made safe to show (pure).

Events carry whatever their senders put in them: lone surrogates (which UTF-8 cannot encode, so SNS
and Slack would refuse the whole message), bidi overrides and zero-width characters (which make a
message read differently from what it says), control characters. ``clean`` keeps what a person can
read and replaces the rest; escaping for Slack's mrkdwn happens where the message is built.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
# C0/C1 controls except tab and newline; bidi embeddings, overrides and isolates; zero-width marks.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Deeper evidence than this is shown as a marker (nobody reads it, and recursion must stay bounded).
MAX_DEPTH = 20


def clean(text: str) -> str:
    """Lone surrogates become U+FFFD, controls a space, bidi and zero-width marks nothing (never all of it)."""
    cleaned = _INVISIBLE.sub("", _CONTROL.sub(" ", _SURROGATE.sub(REPLACEMENT, text)))
    return cleaned if cleaned or not text else REPLACEMENT


def clean_value(value: Any, depth: int = 0) -> Any:
    """``value`` with every string cleaned, nested structures kept up to MAX_DEPTH."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return "(nested too deep)"
    if isinstance(value, dict):
        return {clean(str(k)): clean_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v, depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"(integer of {len(str(abs(value)))} digits)"
    return value
