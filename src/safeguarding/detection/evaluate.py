"""``safeguarding evaluate``: measure a detector with the streaming code, per source and over time.

Everything is computed by replaying conversations through :class:`Detector` message by message, so the
numbers describe what the service would have done, including the minimum-evidence rule:

* author level (PAN12 problem 1): an author is flagged once his risk reached the threshold with enough
  evidence; precision, recall, F1 and F0.5 over author ids, overall and per source;
* early detection: flagged after at most 10 / 50 / 200 of the author's own messages, and the
  latency-weighted F1 (Sadeque et al. 2018; Vogt et al. 2021) over conversations;
* conversation level: ROC-AUC of the final conversation risk (e.g. PAN12 segments, look-alikes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeguarding.detection.data import LabelledConversation
from safeguarding.detection.metrics import (
    BinaryScores,
    binary_scores,
    latency_weighted_f1,
    pan12_problem1,
    roc_auc,
)
from safeguarding.detection.streaming import Detector

CHECKPOINTS = (10, 50, 200)


@dataclass
class AuthorTrace:
    """One author in one conversation: label, messages sent, and after how many he was first flagged."""

    author: str
    source: str
    label: int
    n: int = 0
    first_alert_k: int | None = None


@dataclass
class ConversationTrace:
    id: str
    source: str
    label: int
    risk: float
    alert_at: int | None
    n_messages: int
    authors: list[AuthorTrace] = field(default_factory=list)


def trace(det: Detector, rec: LabelledConversation) -> ConversationTrace:
    """Replay one conversation and note, for every author, when he first became alert-eligible."""
    state = det.new_state(rec.conversation.id)
    traces: dict[str, AuthorTrace] = {}
    risk, alert_at = 0.0, None
    for m in rec.conversation.messages:
        a = det.update(state, m)
        risk, alert_at = a.risk, a.alert_at
        t = traces.get(m.author)
        if t is None:
            t = traces[m.author] = AuthorTrace(m.author, rec.source, int(m.author in rec.positive_authors))
        t.n += 1
        for name, s in state.authors.items():
            tr = traces.get(name)
            if tr is not None and tr.first_alert_k is None and s.alerted:
                tr.first_alert_k = tr.n
    return ConversationTrace(
        rec.conversation.id,
        rec.source,
        rec.label,
        risk,
        alert_at,
        len(rec.conversation.messages),
        list(traces.values()),
    )


def _fmt(s: BinaryScores) -> dict[str, float]:
    return {k: round(v, 4) for k, v in s.as_dict().items()}


def summarise(traces: list[ConversationTrace]) -> dict[str, Any]:
    authors = [a for t in traces for a in t.authors]
    out: dict[str, Any] = {"conversations": len(traces), "authors": len(authors)}
    # PAN12 problem 1 over author ids (an author may appear in several conversations).
    flagged = {a.author for a in authors if a.first_alert_k is not None}
    truth = {a.author for a in authors if a.label}
    out["pan12_problem1"] = _fmt(pan12_problem1(flagged, truth, {a.author for a in authors}))
    at: dict[str, Any] = {}
    for k in CHECKPOINTS:
        sel = [a for a in authors if a.n >= k]
        if sel:
            s = binary_scores(
                [a.label for a in sel], [a.first_alert_k is not None and a.first_alert_k <= k for a in sel]
            )
            at[str(k)] = {**_fmt(s), "authors": len(sel)}
    out["at_messages"] = at
    lat = latency_weighted_f1([t.label for t in traces], [t.alert_at for t in traces])
    out["latency"] = {
        "f1": round(lat.f1, 4),
        "speed": round(lat.speed, 4),
        "f_latency": round(lat.f_latency, 4),
        "median_delay": lat.median_delay,
        "p": round(lat.p, 5),
    }
    y = [t.label for t in traces]
    if 0 < sum(y) < len(y):
        out["conversation_auc"] = round(roc_auc(y, [t.risk for t in traces]), 4)
    by_source: dict[str, Any] = {}
    for src in sorted({a.source for a in authors}):
        sa = [a for a in authors if a.source == src]
        pos = [a for a in sa if a.label]
        neg = [a for a in sa if not a.label]
        st = [t for t in traces if t.source == src]
        entry: dict[str, Any] = {
            "authors": len(sa),
            "positive_authors": len(pos),
            "recall": round(sum(a.first_alert_k is not None for a in pos) / len(pos), 4) if pos else None,
            "false_alert_rate": round(sum(a.first_alert_k is not None for a in neg) / len(neg), 4)
            if neg
            else None,
        }
        ys = [t.label for t in st]
        if 0 < sum(ys) < len(ys):
            entry["conversation_auc"] = round(roc_auc(ys, [t.risk for t in st]), 4)
        by_source[src] = entry
    out["by_source"] = by_source
    return out


def evaluate_records(det: Detector, records: Iterable[LabelledConversation]) -> dict[str, Any]:
    return summarise([trace(det, r) for r in records])


def evaluate_lookalikes(det: Detector, path: Path) -> dict[str, Any]:
    """Hand-written look-alikes: benign chats full of secrets/ages/meetings vs grooming without keywords."""
    import json

    from safeguarding.detection.data.conversations import read_jsonl

    labels: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                labels[d["id"]] = (int(d["label"]), str(d.get("category", "")))
    rows = []
    for conv in read_jsonl(path):
        a = det.assess(conv)
        label, cat = labels[conv.id]
        rows.append((label, cat, a.risk, a.flagged))
    ys = [r[0] for r in rows]
    out: dict[str, Any] = {"conversations": len(rows)}
    if 0 < sum(ys) < len(ys):
        out["auc"] = round(roc_auc(ys, [r[2] for r in rows]), 4)
    neg = [r for r in rows if r[0] == 0]
    pos = [r for r in rows if r[0] == 1]
    out["false_positive_rate"] = round(sum(r[3] for r in neg) / len(neg), 4) if neg else None
    out["recall"] = round(sum(r[3] for r in pos) / len(pos), 4) if pos else None
    cats: dict[str, list[tuple[int, str, float, bool]]] = {}
    for r in rows:
        cats.setdefault(r[1], []).append(r)
    out["by_category"] = {
        c: {"n": len(v), "label": v[0][0], "flagged": sum(r[3] for r in v)} for c, v in sorted(cats.items())
    }
    return out


def evaluate_pan12(det: Detector, xml: Path, predators: Path) -> dict[str, Any]:
    """PAN12 problem 1 on an official corpus (e.g. the 155k-conversation test set), streamed."""
    from safeguarding.detection.data.pan12 import read_pan12, read_predator_ids

    truth = read_predator_ids(predators)
    recs = (
        LabelledConversation(
            c,
            "pan12",
            c.id,
            frozenset(a for a in c.authors if a in truth),
            int(any(a in truth for a in c.authors)),
        )
        for c in read_pan12(xml)
    )
    return evaluate_records(det, recs)
