"""Engine test helpers: a stream builder and a keyword fake detector (tests only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from safeguarding.events import Event, parse_event
from safeguarding.types import Assessment, Message, Reason, Stage

START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
ISSUE_LINES = [
    '{"id": "e1", "type": "account", "account": "a1", "age_band": "adult", "assurance": "self_declared", "at": "2026-01-05T18:00:00Z"}',  # noqa: E501
    '{"id": "e2", "type": "account", "account": "k1", "age_band": "13_15", "assurance": "estimated", "at": "2026-01-05T18:01:00Z"}',  # noqa: E501
    '{"id": "e3", "type": "message", "conversation": "c1", "sender": "a1", "recipients": ["k1"], "text": "hey", "at": "2026-01-05T18:02:00Z"}',  # noqa: E501
    '{"id": "e4", "type": "follow", "actor": "k1", "target": "a1", "at": "2026-01-05T18:03:00Z"}',
]
"""The example lines of the engine issue, verbatim."""


class Stream:
    """Builds valid events with unique ids and times one minute apart (``gap`` overrides)."""

    def __init__(self, start: datetime = START) -> None:
        self.at = start
        self.n = 0

    def __call__(self, type_: str, *, gap: timedelta = timedelta(minutes=1), **fields: Any) -> Event:
        self.n += 1
        self.at += gap
        raw = {"id": fields.pop("id", f"e{self.n}"), "type": type_, "at": self.at.isoformat(), **fields}
        return parse_event(raw)

    def account(self, account: str, band: str | None = "adult", **kw: Any) -> Event:
        if band is not None:
            kw["age_band"] = band
        return self("account", account=account, **kw)

    def msg(
        self, sender: str, *recipients: str, text: str | None = "hi", conversation: str = "c1", **kw: Any
    ) -> Event:
        if text is not None:
            kw["text"] = text
        return self("message", conversation=conversation, sender=sender, recipients=list(recipients), **kw)

    def pair(self, type_: str, actor: str, target: str, **kw: Any) -> Event:
        return self(type_, actor=actor, target=target, **kw)


class FakeDetector:
    """A deterministic keyword scorer with the streaming detector's interface (tests only).

    Each of "secret", "alone", "meet", "gift" adds 0.2 to the author's risk; the conversation flags
    (stickily) when an author reaches 0.5. State is plain JSON.
    """

    version = "fake-1"
    threshold = 0.5
    WORDS = ("secret", "alone", "meet", "gift")

    def __init__(self) -> None:
        self.calls = 0

    def new_state(self, conversation: str) -> dict[str, Any]:
        return {"c": conversation, "n": 0, "score": {}, "flagged": False, "alert_at": None, "suspect": None}

    def update(self, state: dict[str, Any], message: Message) -> Assessment:
        self.calls += 1
        index = state["n"]
        state["n"] += 1
        bump = sum(0.2 for w in self.WORDS if w in message.text.lower())
        state["score"][message.author] = round(min(1.0, state["score"].get(message.author, 0.0) + bump), 6)
        author, risk = max(state["score"].items(), key=lambda kv: (kv[1], kv[0]))
        if not state["flagged"] and risk >= self.threshold:
            state.update(flagged=True, alert_at=index, suspect=author)
        stages = (Stage.SECRECY_ISOLATION,) if risk > 0 else ()
        return Assessment(
            conversation=state["c"],
            index=index,
            risk=risk,
            flagged=state["flagged"],
            alert_at=state["alert_at"],
            suspect=state["suspect"] if state["flagged"] else None,
            stages=stages,
            reasons=(Reason("fake.keywords", "keywords seen"),),
            model_version=self.version,
        )

    def dump_state(self, state: dict[str, Any]) -> bytes:
        return json.dumps(state, sort_keys=True).encode()

    def load_state(self, blob: bytes) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(blob)
        return loaded
