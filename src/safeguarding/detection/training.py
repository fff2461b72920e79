"""Turn labelled conversations into training rows, exactly as the streaming detector sees them.

Each row is one author at one moment ("checkpoint": after his 1st, 3rd, 5th, 10th, ... message and at
the end): the mean of his messages' L2-normalised hashed vectors plus the dense behavioural features.
Rows are computed by walking the conversation in order with the same featurisation as
:class:`safeguarding.detection.streaming.Detector`, so training and streaming cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from safeguarding.detection.data import LabelledConversation
from safeguarding.detection.model import (
    N_DENSE,
    dense_vector,
    featurise,
    is_adult_age,
    is_minor_age,
)

CHECKPOINTS: tuple[int, ...] = (1, 3, 5, 10, 20, 50, 100, 200)


@dataclass
class Rows:
    """A design matrix under construction (COO triplets for the hashed part, dense list for the rest)."""

    n_buckets: int
    indptr: list[int] = field(default_factory=lambda: [0])
    indices: list[int] = field(default_factory=list)
    data: list[float] = field(default_factory=list)
    dense: list[list[float]] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    n_messages: list[int] = field(default_factory=list)
    final: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.label)

    def text_matrix(self) -> object:
        from scipy.sparse import csr_matrix

        return csr_matrix(
            (
                np.asarray(self.data, dtype=np.float32),
                np.asarray(self.indices, dtype=np.int32),
                np.asarray(self.indptr, dtype=np.int64),
            ),
            shape=(len(self), self.n_buckets),
        )

    def dense_matrix(self) -> np.ndarray:
        return np.asarray(self.dense, dtype=np.float64).reshape(len(self), N_DENSE)


@dataclass
class _Acc:
    n: int = 0
    vec: dict[int, float] = field(default_factory=dict)
    cue_counts: list[int] = field(default_factory=list)
    cue_mask: int = 0
    self_minor: bool = False
    self_adult: bool = False
    you_minor: int = 0
    total_at_last: int = 0  # conversation length at his latest message (share is measured then)


def add_conversation(
    rows: Rows,
    record: LabelledConversation,
    *,
    checkpoints: Sequence[int] = CHECKPOINTS,
    n_cues: int,
    cue_bits: Sequence[int],
    max_messages: int | None = None,
) -> None:
    """Append the checkpoint rows of every author of ``record`` to ``rows``."""
    accs: dict[str, _Acc] = {}
    last_row: dict[str, int] = {}
    cps = set(checkpoints)
    msgs = record.conversation.messages
    if max_messages is not None:
        msgs = msgs[:max_messages]

    def emit(author: str, acc: _Acc, final: bool) -> None:
        pm = any(a.self_minor for o, a in accs.items() if o != author)
        pa = any(a.self_adult for o, a in accs.items() if o != author)
        inv = 1.0 / acc.n
        for b, v in acc.vec.items():
            rows.indices.append(b)
            rows.data.append(v * inv)
        rows.indptr.append(len(rows.indices))
        rows.dense.append(
            dense_vector(
                acc.n,
                acc.cue_counts,
                acc.cue_mask,
                acc.self_minor,
                acc.self_adult,
                acc.you_minor,
                pm,
                pa,
                acc.n / acc.total_at_last,
            )
        )
        rows.label.append(1 if author in record.positive_authors else 0)
        rows.source.append(record.source)
        rows.group.append(record.group)
        rows.author.append(author)
        rows.n_messages.append(acc.n)
        rows.final.append(final)
        last_row[author] = len(rows.label) - 1

    for total, m in enumerate(msgs, 1):
        acc = accs.get(m.author)
        if acc is None:
            acc = accs[m.author] = _Acc(cue_counts=[0] * n_cues)
        f = featurise(m.text, rows.n_buckets)
        acc.n += 1
        acc.total_at_last = total
        for b, v in f.vector.items():
            acc.vec[b] = acc.vec.get(b, 0.0) + v
        if f.cues:
            acc.cue_mask |= f.cues
            for i, bit in enumerate(cue_bits):
                if f.cues & bit:
                    acc.cue_counts[i] += 1
        if is_minor_age(f.age):
            acc.self_minor = True
        elif is_adult_age(f.age):
            acc.self_adult = True
        if f.you_minor:
            acc.you_minor += 1
        if acc.n in cps:
            emit(m.author, acc, False)
    for author, acc in accs.items():
        if acc.n not in cps:
            emit(author, acc, True)
        else:
            rows.final[last_row[author]] = True


def build_rows(
    records: Iterable[LabelledConversation],
    *,
    n_buckets: int,
    n_cues: int,
    cue_bits: Sequence[int],
    checkpoints: Sequence[int] = CHECKPOINTS,
) -> Rows:
    rows = Rows(n_buckets=n_buckets)
    for r in records:
        add_conversation(rows, r, checkpoints=checkpoints, n_cues=n_cues, cue_bits=cue_bits)
    return rows


def source_balanced_weights(labels: Sequence[int], sources: Sequence[str]) -> np.ndarray:
    """Weights giving each class half the total mass and each source an equal share within its class.

    Without this the largest benign corpus would dominate the negatives and the few hundred predators
    would be drowned out; with it, hard negatives from small sources (decoys, adult flirting) count.
    """
    y = np.asarray(labels)
    src = np.asarray(sources)
    w = np.zeros(len(y), dtype=np.float64)
    for cls in (0, 1):
        mask = y == cls
        if not mask.any():
            continue
        names = np.unique(src[mask])
        for name in names:
            m = mask & (src == name)
            w[m] = 1.0 / (m.sum() * len(names))
    out: np.ndarray = w * (len(y) / max(float(w.sum()), 1e-12))
    return out


def with_hard_negatives(
    weights: np.ndarray,
    labels: Sequence[int],
    sources: Sequence[str],
    hard_sources: frozenset[str],
    factor: float,
) -> np.ndarray:
    """``weights`` with the negative rows of ``hard_sources`` multiplied by ``factor``, the negative class
    renormalised to its total mass before (positives unchanged).

    Hard negatives talk about what grooming talks about without being grooming: adult decoys playing a
    child in Perverted-Justice chats, the adult sexual chat among PAN12's negatives. Source balancing gives
    each of them one share of the negatives in two dozen; this gives them more.
    """
    if factor == 1.0:
        return weights
    y = np.asarray(labels)
    neg = y == 0
    hard = neg & np.isin(np.asarray(sources), sorted(hard_sources))
    before = float(weights[neg].sum())
    out = weights.copy()
    out[hard] *= factor
    after = float(out[neg].sum())
    if after > 0:
        out[neg] *= before / after
    return out
