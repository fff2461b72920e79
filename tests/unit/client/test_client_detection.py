"""On-device detection: one notice and one signed, text-free alert per flagged conversation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from safeguarding.client import ClientSession, NoticeAction, NoticeLevel
from safeguarding.client.demo import LocalRelay
from safeguarding.e2ee import DeviceAlertKind, verify_device_alert
from safeguarding.types import Assessment, DrivingMessage, Message, Stage

WORDS = {"secret": Stage.SECRECY_ISOLATION, "meet": Stage.MEETING, "snap": Stage.OFF_PLATFORM}


class KeywordDetector:
    """A deterministic stand-in with the streaming detector's interface: +0.3 per keyword, flags at 0.6."""

    version = "kw-1"
    threshold = 0.6

    def new_state(self, conversation: str) -> dict[str, Any]:
        return {"c": conversation, "n": 0, "score": {}, "ev": [], "stages": [], "flag": None}

    def update(self, state: dict[str, Any], message: Message) -> Assessment:
        i = state["n"]
        state["n"] += 1
        hits = [w for w in WORDS if w in message.text.lower()]
        if hits:
            state["score"][message.author] = state["score"].get(message.author, 0.0) + 0.3 * len(hits)
            state["ev"].append((i, message.author))
            state["stages"] += [WORDS[w] for w in hits]
        author, risk = max(state["score"].items(), key=lambda kv: kv[1], default=(None, 0.0))
        if state["flag"] is None and risk >= self.threshold:
            state["flag"] = (i, author)
        flagged = state["flag"] is not None
        return Assessment(
            conversation=state["c"],
            index=i,
            risk=min(risk, 1.0),
            flagged=flagged,
            alert_at=state["flag"][0] if flagged else None,
            suspect=state["flag"][1] if flagged else None,
            stages=tuple(s for s in Stage if s in state["stages"]),
            evidence=tuple(DrivingMessage(j, a, 0.3) for j, a in state["ev"] if a == author),
            model_version=self.version,
        )

    def dump_state(self, state: dict[str, Any]) -> bytes:
        return json.dumps(state).encode()

    def load_state(self, blob: bytes) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(blob)
        return out


LINES = ["hi", "this is our secret", "how was school", "lets meet up", "add me on snap", "ok"]


@pytest.fixture
def child(relay: LocalRelay) -> tuple[ClientSession, ClientSession]:
    a = relay.device("a1")
    k = relay.device("k1", KeywordDetector())
    relay.open(a, "c1", ["a1", "k1"])
    return a, k


def test_the_child_sees_one_notice_and_the_server_gets_one_text_free_alert(
    relay: LocalRelay, child: tuple[ClientSession, ClientSession]
) -> None:
    a, k = child
    notices, alerts = [], []
    for line in LINES:
        got = relay.send(a, "c1", line)[2]["k1"]
        notices += [got.notice] if got.notice else []
        alerts += [got.alert] if got.alert else []
    assert len(notices) == 1 and len(alerts) == 1
    notice, alert = notices[0], alerts[0]
    assert notice.conversation == "c1" and notice.about == "a1" and notice.level is NoticeLevel.URGENT
    assert NoticeAction.REPORT in notice.actions and NoticeAction.BLOCK in notice.actions
    assert notice.stages == (Stage.SECRECY_ISOLATION, Stage.MEETING) and len(notice.tips) == 2
    assert (alert.account, alert.conversation, alert.kind, alert.risk) == (
        "k1",
        "c1",
        DeviceAlertKind.GROOMING,
        0.6,
    )
    wire = json.dumps(alert.to_dict())
    for line in (ln for ln in LINES if len(ln) > 6):  # "hi" and "ok" occur in any English text
        assert line not in wire and line not in repr(notice)
    v = verify_device_alert(alert, directory=relay.directory, account="k1", members=("a1", "k1"))
    assert v.stages == (Stage.SECRECY_ISOLATION, Stage.MEETING)
    assert k.assessment("c1") is not None and k.assessment("c1").flagged  # type: ignore[union-attr]


def test_the_report_screen_preselects_the_driving_messages(
    relay: LocalRelay, child: tuple[ClientSession, ClientSession]
) -> None:
    a, k = child
    ids = [relay.send(a, "c1", line)[0].envelope.message_id for line in LINES]
    assert k.suggested_report("c1") == (ids[1], ids[3], ids[4])
    report = k.report("c1", k.suggested_report("c1"))
    assert [m.text for m in report.messages] == [LINES[1], LINES[3], LINES[4]]


def test_a_device_never_alerts_about_its_own_account(relay: LocalRelay) -> None:
    a = relay.device("a1", KeywordDetector())  # the suspect's own (protected) device
    k = relay.device("k1")
    relay.open(a, "c1", ["a1", "k1"])
    outs = [relay.send(a, "c1", line)[0] for line in LINES]
    assert all(o.notice is None and o.alert is None for o in outs)
    assert a.assessment("c1") is not None and a.assessment("c1").suspect == "a1"  # type: ignore[union-attr]
    assert k.assessment("c1") is None  # no detector on this device


def test_the_childs_own_message_can_complete_the_alert(
    relay: LocalRelay, child: tuple[ClientSession, ClientSession]
) -> None:
    a, k = child
    relay.send(a, "c1", "our secret")
    out = relay.send(k, "c1", "ok but why should we meet")[0]  # the detector sees both sides
    assert out.notice is None  # the child's own words put the child on top: no alert about themselves
    got = relay.send(a, "c1", "meet me, add me on snap")[2]["k1"]
    assert got.alert is not None and got.notice is not None and got.notice.about == "a1"
