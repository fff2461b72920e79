"""The streaming detector's per-conversation state and its stored form.

A conversation's state is a compact summary (per-author counters and running sums, the top few driving
messages, each author's recent risks, the sticky alert) that serialises to a few hundred bytes of JSON,
so a service can persist it between messages and resume exactly
(:meth:`safeguarding.detection.Detector.load_state` continues from it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from safeguarding.errors import InputError
from safeguarding.types import AuthorRisk, DrivingMessage, Reason, Stage

STATE_FORMAT = 2
"""2: each author keeps his recent risks (format 1 kept a streak count; it still loads)."""
NOT_ELIGIBLE = -1.0
"""In ``AuthorState.recent``: the evidence rule did not hold at that message."""


@dataclass(slots=True)
class AuthorState:
    n: int = 0
    first: int = 0
    text_sum: float = 0.0
    cue_counts: list[int] = field(default_factory=list)
    cue_mask: int = 0
    self_minor: bool = False
    self_adult: bool = False
    you_minor: int = 0
    supports: int = 0
    risk: float = 0.0
    margin: float = 0.0
    alerted: bool = False  # sticky: this author met the alert rule at some point
    # his risk at each of his last `persistence` messages, NOT_ELIGIBLE where the evidence rule failed
    recent: list[float] = field(default_factory=list)
    # top evidence: [contribution, index, cue_mask, stage_bits]
    top: list[list[float]] = field(default_factory=list)
    # running sums of the linear model (derived from the counters above; rebuilt on load)
    lin: float = 0.0
    any_sum: float = 0.0
    i_pm: float = 0.0
    i_sa: float = 0.0
    i_pa: float = 0.0
    i_sm: float = 0.0


Explained = tuple[tuple[object, ...], tuple[Stage, ...], tuple[DrivingMessage, ...], tuple[Reason, ...]]


@dataclass(slots=True)
class ConversationState:
    conversation: str
    n: int = 0
    authors: dict[str, AuthorState] = field(default_factory=dict)
    flagged: bool = False
    alert_at: int | None = None
    suspect: str | None = None
    model_version: str = ""
    # not persisted: the last explanation, reused while the focus author's evidence is unchanged
    explained: Explained | None = field(default=None, repr=False, compare=False)
    # not persisted: each author's last AuthorRisk, reused while his risk and message count are unchanged
    views: dict[str, AuthorRisk] = field(default_factory=dict, repr=False, compare=False)


def encode_state(state: ConversationState) -> bytes:
    """The stored form of a state (compact JSON; the caches that are not persisted are left out)."""
    authors = {
        a: [
            s.n,
            s.first,
            s.text_sum,
            s.cue_counts,
            s.cue_mask,
            int(s.self_minor),
            int(s.self_adult),
            s.you_minor,
            s.supports,
            s.top,
            int(s.alerted),
            s.recent,
            [s.lin, s.any_sum, s.i_pm, s.i_sa, s.i_pa, s.i_sm, s.margin],
        ]
        for a, s in state.authors.items()
    }
    doc = {
        "f": STATE_FORMAT,
        "c": state.conversation,
        "n": state.n,
        "a": authors,
        "fl": int(state.flagged),
        "at": state.alert_at,
        "s": state.suspect,
        "v": state.model_version,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_state(blob: bytes) -> ConversationState:
    """A state from its stored form, as written (derived scores are the detector's to restore).
    Raises :class:`InputError` on anything that is not a state of a known format."""
    try:
        doc = json.loads(blob)
        if doc.get("f") not in (1, STATE_FORMAT):
            raise InputError(f"unsupported detector state format {doc.get('f')!r}")
        state = ConversationState(
            conversation=doc["c"],
            n=doc["n"],
            flagged=bool(doc["fl"]),
            alert_at=doc["at"],
            suspect=doc["s"],
            model_version=doc["v"],
        )
        for a, v in doc["a"].items():
            s = AuthorState(
                n=v[0],
                first=v[1],
                text_sum=v[2],
                cue_counts=list(v[3]),
                cue_mask=v[4],
                self_minor=bool(v[5]),
                self_adult=bool(v[6]),
                you_minor=v[7],
                supports=v[8],
                top=[list(t) for t in v[9]],
                alerted=bool(v[10]),
                # format 1 kept a streak count: the window starts again (``alerted`` is kept)
                recent=[float(x) for x in v[11]] if isinstance(v[11], list) else [],
            )
            s.lin, s.any_sum, s.i_pm, s.i_sa, s.i_pa, s.i_sm, s.margin = (float(x) for x in v[12])
            state.authors[a] = s
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError(f"corrupt detector state: {exc}") from exc
    return state
