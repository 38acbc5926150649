"""Work worked out once per frozen object: what deciding or explaining a plan derives from the
plan alone (its stage chain, its rules by level, the text of its conditions), kept beside the
plan while it is one of the last few asked about.

Each stage keeps its own memo of an object (`memo_of(plan, "decide")`, `memo_of(plan,
"explain")`), so no stage reads what another worked out: a record never calls back into the
runtime. Holding the object keeps its id from being reused while its memo is kept.
"""

from __future__ import annotations

from typing import Any

MEMO_OBJECTS = 64  # objects whose memos are kept, the least recently added dropped first
_MEMOS: dict[tuple[int, str], tuple[Any, dict[Any, Any]]] = {}


def memo_of(frozen: Any, stage: str) -> dict[Any, Any]:
    """The memo `stage` keeps for `frozen` (the same object, not an equal one)."""
    key = (id(frozen), stage)
    entry = _MEMOS.get(key)
    if entry is None or entry[0] is not frozen:
        if len(_MEMOS) >= MEMO_OBJECTS:
            del _MEMOS[next(iter(_MEMOS))]
        entry = _MEMOS[key] = (frozen, {})
    return entry[1]
