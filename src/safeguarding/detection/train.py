"""``safeguarding train``: the seeded, reproducible training pipeline for the grooming detector.

1. load every known source under DATA_DIR (see :mod:`safeguarding.detection.data`);
2. split by group (a predator and his decoys, a conversation) into train and dev;
3. build author-checkpoint rows with the streaming featurisation (:mod:`.training`);
4. fit a logistic regression on train, choosing C on dev by source-balanced average precision;
5. Platt-calibrate on dev, pick the alert threshold on dev for F0.5 (precision first);
6. fit the stage tagger; write the artifact, its sha256 and the model card.

``--feedback FILE`` adds moderators' labelled decisions (``safeguarding feedback export``) as their own
source, ``moderator_feedback``, in the train part only (:data:`TRAIN_ONLY_SOURCES`): dev and test, which
choose and judge the model, stay the same with or without it.

Needs the ``train`` extra (scikit-learn, scipy). Nothing here runs at scoring time.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from safeguarding.detection.artifact import save_artifact
from safeguarding.detection.data import (
    LabelledConversation,
    load_corpus,
    load_pj_pairs,
    split_of,
    window_records,
)
from safeguarding.detection.data.feedback import FEEDBACK_SOURCE, load_feedback
from safeguarding.detection.features import N_BUCKETS
from safeguarding.detection.metrics import average_precision, f_beta
from safeguarding.detection.model import CUE_LIST, LinearWeights
from safeguarding.detection.streaming import Detector, DetectorConfig
from safeguarding.detection.training import (
    Rows,
    build_rows,
    source_balanced_weights,
    with_hard_negatives,
)
from safeguarding.synth import make_dataset
from safeguarding.types import Conversation, Message

log = logging.getLogger(__name__)

MODEL_NAME = "grooming-linear"
MODEL_VERSION = "1.2.0"
C_GRID = (16.0,)
"""Regularisation strengths tried (the best on dev by source-balanced average precision is kept). Model
1.1.0 chose 16 from (4, 16, 64); 1.2.0's hard-negative weight was chosen on dev at C=16, so C stays there
(with the weighting, 4 scored 0.0004 higher average precision but a lower threshold objective on dev)."""
EVAL_CHECKPOINTS = (10, 50, 200)
TRAIN_ONLY_SOURCES = frozenset({FEEDBACK_SOURCE})
"""Sources used for fitting only, never for choosing (dev) or judging (test) a model."""
HARD_NEGATIVE_SOURCES = frozenset({"pj_koutli", "pj_koutli_pairs", "pan12_vtpan"})
"""Sources whose negatives are hard: Perverted-Justice decoys (adults playing a child), PAN12 segments
(adult sexual chat among the negatives). Weighted up in training (``TrainOptions.hard_negative_weight``)."""


@dataclass
class TrainOptions:
    seed: int = 0
    n_buckets: int = N_BUCKETS
    max_conversations_per_source: int = 2500
    nps_window: int = 60
    min_messages: int = 3
    min_support: int = 2
    synthetic_conversations: int = 3000
    hard_negative_weight: float = 4.0
    """Multiplier of the train weight of :data:`HARD_NEGATIVE_SOURCES` negatives (after source balancing).
    4 was chosen on dev for model 1.2.0 (1, 2 and 4 compared on six halvings of the dev groups: threshold
    chosen on one half, F0.5 at 10/50/200 scored on the other; see docs/benchmarks.md)."""


@dataclass
class TrainResult:
    out_dir: Path
    version: str
    dev_metrics: dict[str, Any]
    config: DetectorConfig
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def partition(group: str) -> Literal["train", "dev", "test"]:
    """70 % train, 15 % dev (model selection, calibration, threshold), 15 % test (``evaluate`` only).

    By group, so a predator and his decoys, or one conversation, never straddle two parts.
    """
    if split_of(group, dev_percent=30) == "train":
        return "train"
    return "dev" if split_of(group, dev_percent=50, salt="safeguarding-test-v1") == "train" else "test"


def part_of(rec: LabelledConversation) -> Literal["train", "dev", "test"]:
    """:func:`partition` of the record's group, except that train-only sources always train."""
    return "train" if rec.source in TRAIN_ONLY_SOURCES else partition(rec.group)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fingerprint(data_dir: Path, feedback: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(data_dir.rglob("*")):
        if p.is_file() and "heldout" not in p.parts:
            h.update(str(p.relative_to(data_dir)).encode())
            with p.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    if feedback is not None:  # without feedback, the fingerprint is what it always was
        h.update(f"{FEEDBACK_SOURCE}:{_file_sha256(feedback)}".encode())
    return h.hexdigest()


def load_records(data_dir: Path, opts: TrainOptions) -> Iterator[LabelledConversation]:
    """All records, large benign sources subsampled deterministically and chat rooms windowed.

    Our own synthetic conversations (:mod:`safeguarding.synth`: benign look-alike kinds such as surprise
    parties, coaches with parents informed, adults dating, teens meeting at the mall, and grooming
    escalations through game gifts and app moves) are added, one source per kind, so that "secret",
    "how old are you" and "meet me" alone do not mean grooming.

    PAN12 VTPAN segments carry no author ids (only a conversation label), so each is cut into
    pseudo-messages of a few words by one pseudo-author who is positive when the segment is: they add
    PAN12-era conversation text, including the adult sexual chat of its negatives.
    """
    rng = random.Random(opts.seed)
    by_source: dict[str, list[LabelledConversation]] = {}
    for rec in load_corpus(data_dir):
        if rec.source == "nps_chat":
            by_source.setdefault(rec.source, []).extend(window_records(rec, opts.nps_window, opts.nps_window))
            continue
        if rec.source == "pan12_vtpan":
            rec = _chunk_segment(rec)
        by_source.setdefault(rec.source, []).append(rec)
    for pj in sorted((data_dir / "pj_koutli").glob("*.jsonl.gz")):
        by_source.setdefault("pj_koutli_pairs", []).extend(load_pj_pairs(pj))
    for syn in make_dataset(opts.synthetic_conversations, opts.seed):
        positives = frozenset({syn.suspect}) if syn.label and syn.suspect else frozenset()
        by_source.setdefault(f"synthetic:{syn.kind}", []).append(
            LabelledConversation(
                syn.conversation, f"synthetic:{syn.kind}", syn.conversation.id, positives, syn.label
            )
        )
    for source, recs in sorted(by_source.items()):
        if len(recs) > opts.max_conversations_per_source and not any(r.label for r in recs):
            recs = rng.sample(recs, opts.max_conversations_per_source)
        log.info("source %s: %d conversations", source, len(recs))
        yield from recs


def held_back_records(
    data_dir: Path, part: Literal["dev", "test"] = "test"
) -> Iterator[LabelledConversation]:
    """Every record of the ``dev`` or ``test`` part of DATA_DIR (no subsampling): what ``evaluate`` and
    the benchmarks score."""
    opts = TrainOptions(max_conversations_per_source=10**9)
    return (r for r in load_records(data_dir, opts) if partition(r.group) == part)


def _chunk_segment(rec: LabelledConversation, words: int = 12) -> LabelledConversation:
    text = " ".join(m.text for m in rec.conversation.messages).split()
    author = "segment"
    msgs = tuple(Message(author, " ".join(text[i : i + words])) for i in range(0, len(text), words))
    conv = Conversation(rec.conversation.id, msgs, rec.conversation.source)
    return LabelledConversation(
        conv, rec.source, rec.group, frozenset({author}) if rec.label else frozenset(), rec.label
    )


def _fit(x: Any, y: np.ndarray, w: np.ndarray, c: float, seed: int) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, solver="liblinear", max_iter=200, random_state=seed)
    clf.fit(x, y, sample_weight=w)
    return clf.coef_.ravel().astype(np.float64), float(clf.intercept_[0])


def _stack(rows: Rows) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack([rows.text_matrix(), csr_matrix(rows.dense_matrix())], format="csr")


def _platt(margins: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e4, solver="lbfgs")
    clf.fit(margins.reshape(-1, 1), y, sample_weight=w)
    return float(clf.coef_[0, 0]), float(clf.intercept_[0])


PERSISTENCE_GRID = (1, 2, 3)

Peaks = list[tuple[str, int, dict[int, float]]]


def author_peaks(det: Detector, records: Iterable[LabelledConversation]) -> dict[int, Peaks]:
    """Stream records with ``det``'s model (its threshold and persistence set aside) and note, per author
    and persistence p, the highest risk he held over p consecutive own messages while meeting the
    evidence rule, as of his k-th message for k in :data:`EVAL_CHECKPOINTS` (authors with at least k
    messages). An author is flagged by threshold t and persistence p within k messages exactly when that
    value is at least t. The windows are the detector's own (``AuthorState.recent``), kept as long as
    the longest persistence tried.
    """
    out: dict[int, Peaks] = {p: [] for p in PERSISTENCE_GRID}
    wide = Detector(det.weights, replace(det.config, persistence=max(PERSISTENCE_GRID)), version=det.version)
    for rec in records:
        state = wide.new_state(rec.conversation.id)
        peak: dict[str, list[float]] = {}
        at: dict[str, dict[int, list[float]]] = {}
        for m in rec.conversation.messages:
            wide.update(state, m)
            s = state.authors.get(m.author)
            if s is None:
                continue
            r = s.recent
            pk = peak.setdefault(m.author, [0.0] * len(PERSISTENCE_GRID))
            for i, p in enumerate(PERSISTENCE_GRID):
                if len(r) >= p:
                    pk[i] = max(pk[i], min(r[-p:]))
            if s.n in EVAL_CHECKPOINTS:
                at.setdefault(m.author, {})[s.n] = list(pk)
        for author, ks in at.items():
            y = int(author in rec.positive_authors)
            for i, p in enumerate(PERSISTENCE_GRID):
                out[p].append((rec.source, y, {k: v[i] for k, v in ks.items()}))
    return out


def choose_threshold(peaks: Peaks) -> tuple[float, float]:
    """(threshold, objective): the threshold that maximises author-level F0.5 (precision first), averaged
    over authors scored after 10, 50 and 200 of their own messages, as the streaming detector with its
    evidence rule would alert. Chosen on the dev split only.

    Why plain author-level F0.5 and not a source- and class-balanced one (up to model 1.0.0): it is the
    number the detector is judged by (``evaluate``, the benchmark), and the long streams it counts at 50
    and 200 messages are where sticky false alerts on Perverted-Justice decoys live. Balancing gave the
    decoys one share of the negatives in two dozen, so the threshold sat where a long decoy stream got
    alerted on (issue 2). The price is recall: the chosen threshold is higher and misses more grooming
    that looks like nothing in the training data (see ``docs/benchmarks.md``).
    """
    per_k: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in EVAL_CHECKPOINTS:
        sel = [(y, ks[k]) for _src, y, ks in peaks if k in ks]
        if sel:
            per_k[k] = (np.asarray([r[0] for r in sel]) == 1, np.asarray([r[1] for r in sel]))
    if not per_k:
        return 0.5, 0.0
    best_t, best_f = 0.5, -1.0
    for t in np.round(np.arange(0.30, 0.991, 0.01), 2):
        fs = []
        for y, v in per_k.values():
            flag = v >= t
            tp = int((y & flag).sum())
            fp = int((~y & flag).sum())
            fn = int((y & ~flag).sum())
            fs.append(f_beta(tp / (tp + fp), tp / (tp + fn), 0.5) if tp else 0.0)
        f = float(np.mean(fs))
        if f > best_f + 1e-9:
            best_t, best_f = float(t), f
    return best_t, best_f


def train(
    data_dir: Path,
    out_dir: Path,
    opts: TrainOptions | None = None,
    *,
    progress: Callable[[str], None] = log.info,
    extra_records: Iterable[LabelledConversation] = (),
    feedback: Path | None = None,
) -> TrainResult:
    """Train on DATA_DIR (plus ``extra_records``, and ``feedback``: a moderator feedback file) into
    ``out_dir``; see the module docstring."""
    opts = opts or TrainOptions()
    np.random.seed(opts.seed)
    cue_bits = [int(c) for c in CUE_LIST]
    fed = list(load_feedback(feedback)) if feedback is not None else []
    if feedback is not None:
        n_pos = sum(r.label for r in fed)
        progress(f"moderator feedback: {len(fed)} conversations ({n_pos} grooming), train part only")
    recs = [*load_records(data_dir, opts), *extra_records, *fed]
    train_recs = [r for r in recs if part_of(r) == "train"]
    dev_recs = [r for r in recs if part_of(r) == "dev"]
    progress(f"records: {len(train_recs)} train, {len(dev_recs)} dev")
    rtr = build_rows(train_recs, n_buckets=opts.n_buckets, n_cues=len(cue_bits), cue_bits=cue_bits)
    rdv = build_rows(dev_recs, n_buckets=opts.n_buckets, n_cues=len(cue_bits), cue_bits=cue_bits)
    progress(f"rows: {len(rtr)} train, {len(rdv)} dev")
    xtr, xdv = _stack(rtr), _stack(rdv)
    ytr, ydv = np.asarray(rtr.label), np.asarray(rdv.label)
    wtr = with_hard_negatives(
        source_balanced_weights(rtr.label, rtr.source),
        rtr.label,
        rtr.source,
        HARD_NEGATIVE_SOURCES,
        opts.hard_negative_weight,
    )
    wdv = source_balanced_weights(rdv.label, rdv.source)
    best: tuple[float, float, np.ndarray, float] | None = None
    for c in C_GRID:
        coef, icpt = _fit(xtr, ytr, wtr, c, opts.seed)
        ap = average_precision(ydv, xdv @ coef + icpt, sample_weight=wdv)
        progress(f"C={c}: dev weighted AP {ap:.4f}")
        if best is None or ap > best[1]:
            best = (c, ap, coef, icpt)
    assert best is not None
    c, _, coef, icpt = best
    margins = xdv @ coef + icpt
    a, b = _platt(margins, ydv, wdv)
    weights = LinearWeights(
        text=coef[: opts.n_buckets].astype(np.float32),
        dense=coef[opts.n_buckets :],
        intercept=icpt,
        calib_a=a,
        calib_b=b,
    )
    config = DetectorConfig(threshold=0.0, min_messages=opts.min_messages, min_support=opts.min_support)
    progress("streaming the dev split to choose the alert threshold")
    peaks = author_peaks(Detector(weights, config, version="dev"), dev_recs)
    choices = {p: choose_threshold(peaks[p]) for p in PERSISTENCE_GRID}
    persistence = max(PERSISTENCE_GRID, key=lambda p: (choices[p][1], -p))
    threshold = choices[persistence][0]
    progress(
        "persistence/threshold on dev: "
        + ", ".join(f"p={p}: t={t:.2f} F0.5={f:.4f}" for p, (t, f) in choices.items())
    )
    config = replace(config, threshold=threshold, persistence=persistence)
    tagger = _fit_tagger(data_dir, opts, progress)
    tagger_obj = None
    if tagger is not None:
        from safeguarding.detection.stages import StageTagger

        tagger_obj = StageTagger.from_arrays(tagger)
    from safeguarding.detection.evaluate import evaluate_records

    report = evaluate_records(Detector(weights, config, version="dev", tagger=tagger_obj), dev_recs)
    report["C"] = c
    report["threshold"] = threshold
    progress(f"threshold {threshold:.2f}; dev at k messages: {report['at_messages']}")
    fingerprint = _fingerprint(data_dir, feedback)
    version = f"{MODEL_VERSION}+{fingerprint[:8]}"
    counts = _counts(rtr, rdv)
    info: dict[str, Any] = {
        "name": MODEL_NAME,
        "data_fingerprint": fingerprint,
        "seed": opts.seed,
        "hard_negative_weight": opts.hard_negative_weight,
        "dev_metrics": report,
        "row_counts": counts,
        "sources": sorted(set(rtr.source) | set(rdv.source)),
    }
    if feedback is not None:
        info[FEEDBACK_SOURCE] = {
            "conversations": len(fed),
            "grooming": sum(r.label for r in fed),
            "benign": sum(1 - r.label for r in fed),
            "sha256": _file_sha256(feedback),
        }
    from safeguarding.detection.card import render_model_card

    card = render_model_card(version=version, info=info, config=config)
    save_artifact(
        out_dir,
        weights=weights,
        config=config,
        version=version,
        tagger_arrays=tagger,
        info=info,
        model_card=card,
    )
    return TrainResult(out_dir, version, report, config, counts)


def _fit_tagger(
    data_dir: Path, opts: TrainOptions, progress: Callable[[str], None]
) -> dict[str, np.ndarray] | None:
    path = data_dir / "grooming_stages_pan12_ugurluer" / "grooming_stages_train.jsonl"
    if not path.is_file():
        progress("no grooming-stage labels found: the stage tagger uses cue rules only")
        return None
    from safeguarding.detection.stage_training import load_stage_items, train_stage_tagger

    tagger = train_stage_tagger(load_stage_items(path), random_state=opts.seed)
    return tagger.to_arrays()


def _counts(rtr: Rows, rdv: Rows) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name, rows in (("train", rtr), ("dev", rdv)):
        for s, y, fin in zip(rows.source, rows.label, rows.final, strict=True):
            d = out.setdefault(s, {})
            key = f"{name}_{'pos' if y else 'neg'}_authors"
            if fin:
                d[key] = d.get(key, 0) + 1
            d[f"{name}_rows"] = d.get(f"{name}_rows", 0) + 1
    return out
