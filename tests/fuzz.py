"""Hostile input for every handler: real samples from events/, mutated the way the world mutates them.

``hostile_events(samples)`` draws either a sample with one to three of its fields replaced (wrong types,
nulls, empty and huge strings up to EventBridge's 256 KB, odd unicode including lone surrogates, deep
nesting, huge integers) or a payload that is not an object at all. Every handler's fuzz test asserts
that no exception escapes and that nothing mutating happens for what Tollgate does not guard.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EVENTBRIDGE_MAX_BYTES = 256 * 1024

_odd_text = st.sampled_from(
    [
        "",
        " ",
        "\ud800",  # a lone surrogate: not encodable as UTF-8
        "\udfff\ud800",
        "\x00",
        "\u202e\u0301\u200b",  # bidi override, combining mark, zero-width space
        "😀" * 50,
        "<script>alert(1)</script>",
        "*bold* `code` <!channel> <@U123>",
        "a" * EVENTBRIDGE_MAX_BYTES,
        "d-" + "9" * 400,
        "arn:aws:cloudwatch:eu-west-1:999999999999:alarm:foreign",
    ]
)
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    _odd_text,
)
_value = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
NON_OBJECTS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.lists(_leaf, max_size=3), _odd_text
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return document


@st.composite
def _mutated(draw: st.DrawFn, samples: Sequence[dict[str, Any]]) -> Any:
    document = copy.deepcopy(draw(st.sampled_from(list(samples))))
    paths = _paths(document)
    if not paths:
        return document
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        choice = draw(st.sampled_from(["value", "delete", "deep"]))
        if choice == "delete" and isinstance(path[-1], str):
            parent = document
            for step in path[:-1]:
                parent = parent[step]
            parent.pop(path[-1], None)
        elif choice == "deep":
            nested: Any = "x"
            for _ in range(200):
                nested = {"a": nested}
            document = _replace(document, path, nested)
        else:
            document = _replace(document, path, draw(_value))
    return document


def hostile_events(samples: Sequence[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Mutated samples (most draws) and non-object payloads."""
    return st.one_of(_mutated(samples), _mutated(samples), _mutated(samples), NON_OBJECTS)


# -- running a handler's fuzz and recording what it saw ------------------------------------------------

FUZZ_CASES = 250  # per handler: enough to reach every field of every sample, fast on a loaded machine
COUNTS_FILE = Path(__file__).resolve().parent.parent / "build" / "fuzz-counts.json"


def run_fuzz(
    name: str, samples: Sequence[dict[str, Any]], check: Callable[[Any], str], *, cases: int = FUZZ_CASES
) -> Counter[str]:
    """Draw ``cases`` hostile events from ``samples`` and hand each to ``check``, which runs the handler,
    asserts the invariants and returns the handler's decision; the counts per decision are returned and
    recorded in build/fuzz-counts.json (the closing note's case counts)."""
    seen: Counter[str] = Counter()

    @settings(max_examples=cases, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hostile_events(samples))
    def one(event: Any) -> None:
        seen["cases"] += 1
        seen[f"decision:{check(event)}"] += 1

    one()
    record_counts(name, seen)
    return seen


def record_counts(name: str, seen: Counter[str]) -> None:
    COUNTS_FILE.parent.mkdir(exist_ok=True)
    try:
        counts = json.loads(COUNTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        counts = {}
    counts[name] = dict(sorted(seen.items()))
    COUNTS_FILE.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"fuzz {name}: {dict(sorted(seen.items()))}")


def answer_is_json(answer: Any) -> None:
    """What a handler returns goes back through the Lambda runtime's JSON encoder."""
    json.dumps(answer)
