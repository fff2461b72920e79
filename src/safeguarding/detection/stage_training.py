"""Training and evaluation of the grooming-stage tagger (:class:`safeguarding.detection.stages.StageTagger`):
the sentences written here per stage (weak supervision), the labelled items' loader, and the
hold-out / cross-validation protocol that ``benchmarks/bench_stages.py`` reports. Nothing here runs at
scoring time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from safeguarding.detection.cues import cue_flags
from safeguarding.detection.stages import DATASET_LABELS, NEUTRAL, OFFLINE, StageTagger, rule_label
from safeguarding.errors import InputError

# -- weak supervision ------------------------------------------------------------------------------------
# Sentences written for this project (never copied from any data set), in the register of chat lines:
# lower case, txt-speak, typos. "|" separates sentences.
_SEEDS: dict[str, str] = {
    NEUTRAL: """
lol yeah that movie was so dumb | what r u up to | brb gotta eat dinner | did u finish the game last night
its raining here again ugh | haha ok | i like pizza more than burgers | my cat keeps sitting on the keyboard
that song is stuck in my head | wanna play minecraft later | i'm so tired today | ok cool
what kind of music do u listen to | the new update is buggy | hmm idk | gtg ttyl
i watched a show about sharks | lunch was gross | do u like dogs or cats | nothing much just chilling
""",
    "trust_building": """
you seem really sweet | i like talking to you a lot | ur so easy to talk to | youre really cute u know that
i think ur special | you can trust me | i'd never hurt you | ur way more mature than most people
i really care about u | you're so pretty in ur pic | i'm always here for you | u make me smile
i could buy you something nice | ur my favorite person to talk to | i feel like i've known u forever
ur different from other girls | u deserve someone who treats u right | i miss talking to u
""",
    "information_gathering": """
how old r u | asl | where do u live | what grade r u in | are u home alone right now
do ur parents check ur phone | what school do u go to | do u have ur own room | who do u live with
when do ur parents get home | what city r u in | do u have a bf | is ur mom home | do u have brothers
what do u look like | how tall r u | are u on ur computer in ur room | what time do u go to bed
""",
    "secrecy_isolation": """
dont tell anyone we talk | this is our secret ok | delete our chats after | ur parents wouldnt understand
keep this between us | nobody needs to know | ur friends are too immature for u | only i really get u
make sure ur mom doesnt see this | clear ur history ok | they just want to control u
if anyone asks say im a friend from school | dont tell ur friends about me | we have to be careful
ur mom would freak out if she knew | promise u wont tell
""",
    "sexualisation": """
have u ever kissed anyone | what are u wearing | r u a virgin | have u ever touched urself
send me a pic in ur bra | u make me so hard | i wanna see u naked | do u ever get horny
i want to kiss u all over | what color r ur panties | have u seen a guy naked | u ever had sex
do u sleep naked | i could teach u things | show me ur body | i'm thinking about u in bed
""",
    "control_coercion": """
answer me | why r u ignoring me | u better do it | if u dont send it ill tell everyone
u promised | do what i say | dont make me ask again | i'll post ur pics | u owe me
if u really loved me u would | last chance | u have to | i know where u live | reply now
u cant back out now | i'll be really mad
""",
    OFFLINE: """
we should meet up | can i pick u up after school | add me on snap | whats ur number | text me
i could drive to ur town | wanna hang out this weekend | can u sneak out tonight | call me
i'll get us a hotel room | meet me at the park | do u have kik | when can we meet
i'll come see u saturday | we can talk on the phone | give me ur address
""",
}


def seed_examples() -> list[tuple[str, str]]:
    """(text, label) pairs written for weak supervision: a few clear lines per dataset label."""
    out: list[tuple[str, str]] = []
    for label, block in _SEEDS.items():
        for sentence in block.replace("\n", " | ").split("|"):
            if sentence.strip():
                out.append((sentence.strip(), label))
    return out


# -- data, training and evaluation ---------------------------------------------------------------------------
def load_stage_items(path: str | Path) -> list[tuple[str, str, str]]:
    """``(text, label, conversation_id)`` of a ``grooming_stages_*.jsonl`` file (read by the corpus loader);
    a bad line or a label outside :data:`DATASET_LABELS` is an InputError."""
    from safeguarding.detection.data import load_stage_items as read_items

    items = read_items(path)
    for n, it in enumerate(items, 1):
        if it.label not in DATASET_LABELS:
            raise InputError(f"unknown label {it.label!r}", where=f"{path}: item {n}")
    return [(it.text, it.label, it.group) for it in items]


def train_stage_tagger(
    items: Sequence[tuple[str, str, str]] = (),
    *,
    use_seeds: bool = True,
    seed_weight: float = 1.0,
    **params: Any,
) -> StageTagger:
    """Fit a :class:`StageTagger` on labelled items plus (by default) :func:`seed_examples`."""
    texts = [t for t, _, _ in items]
    labels = [lab for _, lab, _ in items]
    weights = [1.0] * len(texts)
    if use_seeds:
        for text, label in seed_examples():
            texts.append(text)
            labels.append(label)
            weights.append(seed_weight)
    return StageTagger(**params).fit(texts, labels, sample_weight=weights)


def _bucket(conversation_id: str, salt: str, mod: int) -> int:
    return int(hashlib.sha256(f"{salt}:{conversation_id}".encode()).hexdigest()[:8], 16) % mod


def macro_f1(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = DATASET_LABELS
) -> dict[str, float]:
    """Per-label F1 (2TP / (2TP + FP + FN), 0 when undefined) and their unweighted mean as ``macro``."""
    out: dict[str, float] = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p != lab)
        out[lab] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    out["macro"] = sum(out[lab] for lab in labels) / len(labels)
    return out


_VARIANTS = ("rules", "model", "combined", "model_ngrams_only", "model_data_only", "model_seeds_only")


def _run_split(
    train: Sequence[tuple[str, str, str]], test: Sequence[tuple[str, str, str]], params: dict[str, Any]
) -> dict[str, list[str]]:
    texts = [t for t, _, _ in test]
    full = train_stage_tagger(train, **params)
    return {
        "rules": [rule_label(cue_flags(t)) for t in texts],
        "model": full.predict(texts),
        "combined": full.predict_combined(texts),
        "model_ngrams_only": train_stage_tagger(train, **{**params, "cue_weight": 0.0}).predict(texts),
        "model_data_only": train_stage_tagger(train, use_seeds=False, **params).predict(texts),
        "model_seeds_only": train_stage_tagger((), **params).predict(texts),
    }


def evaluate_stages(
    data_path: str | Path, *, holdout_percent: int = 30, folds: int = 5, **params: Any
) -> dict[str, Any]:
    """Macro-F1 over the 7 dataset labels for rules only, model only and combined (plus ablations).

    Splits are by conversation (sha256 of the id with a salt), never by message: a 30 % hold-out and a
    grouped ``folds``-fold cross-validation (mean and standard deviation over folds). ``params`` go to
    :class:`StageTagger` (defaults otherwise). Variants: ``rules`` (cues only, :func:`rule_label`),
    ``model`` (n-grams + cue bits, trained on data + seeds), ``combined``
    (:meth:`StageTagger.predict_combined`), and ablations ``model_ngrams_only`` (cue bits off),
    ``model_data_only`` (no seeds) and ``model_seeds_only``.
    """
    items = load_stage_items(data_path)
    held = [it for it in items if _bucket(it[2], "stages-holdout", 100) < holdout_percent]
    rest = [it for it in items if _bucket(it[2], "stages-holdout", 100) >= holdout_percent]
    preds = _run_split(rest, held, params)
    gold = [lab for _, lab, _ in held]
    result: dict[str, Any] = {
        "n_items": len(items),
        "n_conversations": len({c for _, _, c in items}),
        "holdout": {"n_items": len(held), **{v: macro_f1(gold, preds[v]) for v in _VARIANTS}},
    }
    per_fold: dict[str, list[float]] = {v: [] for v in _VARIANTS}
    for k in range(folds):
        test = [it for it in items if _bucket(it[2], "stages-cv", folds) == k]
        train = [it for it in items if _bucket(it[2], "stages-cv", folds) != k]
        fold_preds = _run_split(train, test, params)
        fold_gold = [lab for _, lab, _ in test]
        for v in _VARIANTS:
            per_fold[v].append(macro_f1(fold_gold, fold_preds[v])["macro"])
    result["cv"] = {
        v: {"mean": float(np.mean(s)), "std": float(np.std(s)), "folds": [round(x, 4) for x in s]}
        for v, s in per_fold.items()
    }
    return result
