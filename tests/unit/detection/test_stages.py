"""Stage tagger tests on synthetic sentences written for this file (no real data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safeguarding.detection.cues import N_CUES, Cue
from safeguarding.detection.stage_training import (
    evaluate_stages,
    load_stage_items,
    macro_f1,
    seed_examples,
    train_stage_tagger,
)
from safeguarding.detection.stages import DATASET_LABELS, OFFLINE, StageTagger, label_stages, rule_label
from safeguarding.errors import InputError
from safeguarding.types import Stage

TRAIN: list[tuple[str, str]] = [
    ("ok see you later", "neutral"),
    ("the game crashed again", "neutral"),
    ("i had cereal for breakfast", "neutral"),
    ("my team lost the match", "neutral"),
    ("that show is funny", "neutral"),
    ("you are really sweet", "trust_building"),
    ("i love talking with you", "trust_building"),
    ("you're so mature and kind", "trust_building"),
    ("you are the sweetest person", "trust_building"),
    ("how old are you", "information_gathering"),
    ("where do you live", "information_gathering"),
    ("are your parents home", "information_gathering"),
    ("which school do you go to", "information_gathering"),
    ("don't tell your mom about me", "secrecy_isolation"),
    ("keep this our secret", "secrecy_isolation"),
    ("delete the chat after", "secrecy_isolation"),
    ("nobody needs to know", "secrecy_isolation"),
    ("have you ever been naked with a boy", "sexualisation"),
    ("what are you wearing right now", "sexualisation"),
    ("send me a pic in your underwear", "sexualisation"),
    ("are you a virgin", "sexualisation"),
    ("answer me now", "control_coercion"),
    ("you owe me this", "control_coercion"),
    ("do it or else", "control_coercion"),
    ("i'll post your pics if you stop", "control_coercion"),
    ("we should meet up saturday", OFFLINE),
    ("add me on snapchat", OFFLINE),
    ("i can pick you up after school", OFFLINE),
    ("text me at my number", OFFLINE),
]


@pytest.fixture(scope="module")
def tagger() -> StageTagger:
    texts = [t for t, _ in TRAIN]
    labels = [lab for _, lab in TRAIN]
    return StageTagger(n_buckets=1 << 12, C=10.0).fit(texts, labels)


def test_init_stores_params_only() -> None:
    t = StageTagger(n_buckets=1024, C=2.0)
    assert t.n_buckets == 1024 and t.C == 2.0
    assert not hasattr(t, "coef_")
    with pytest.raises(RuntimeError):
        t.tag("hi")


def test_fit_returns_self_and_learned_shapes(tagger: StageTagger) -> None:
    assert list(tagger.classes_) == sorted(DATASET_LABELS)
    assert tagger.coef_.shape == (len(DATASET_LABELS), (1 << 12) + N_CUES)
    assert tagger.intercept_.shape == (len(DATASET_LABELS),)
    p = tagger.predict_proba(["hello there", "how old are you"])
    assert p.shape == (2, len(DATASET_LABELS))
    assert np.allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("how old r u", "information_gathering"),
        ("dont tell ur mom ok", "secrecy_isolation"),
        ("wanna meet up this weekend", OFFLINE),
        ("what r u wearing", "sexualisation"),
        ("my team won the match", "neutral"),
    ],
)
def test_predicts_clear_examples(tagger: StageTagger, text: str, label: str) -> None:
    assert tagger.predict([text]) == [label]


def test_tag_unions_cues_and_model(tagger: StageTagger) -> None:
    assert Stage.SECRECY_ISOLATION in tagger.tag("keep this our secret")
    assert Stage.OFF_PLATFORM in tagger.tag("add me on snapchat")
    assert Stage.MEETING in tagger.tag("i can pick you up after school")
    # A cue the model never saw in training still tags its stage.
    assert Stage.GIFTS in tagger.tag("i can buy you robux")
    assert tagger.tag("the game crashed again") == ()


def test_offline_escalation_maps_by_cue() -> None:
    assert label_stages(OFFLINE, int(Cue.OFF_PLATFORM)) == (Stage.OFF_PLATFORM,)
    assert label_stages(OFFLINE, 0) == (Stage.MEETING,)
    assert label_stages("neutral") == ()
    assert label_stages("gifts") == (Stage.GIFTS,)


def test_rule_label_priority() -> None:
    assert rule_label(int(Cue.CONTROL | Cue.AFFECTION)) == "control_coercion"
    assert rule_label(int(Cue.QUESTION)) == "neutral"
    assert rule_label(int(Cue.AGE_QUESTION)) == "information_gathering"


def test_arrays_round_trip_gives_identical_predictions(tagger: StageTagger) -> None:
    arrays = tagger.to_arrays()
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    assert not any(v.dtype == object for v in arrays.values())
    again = StageTagger.from_arrays(arrays)
    texts = [t for t, _ in TRAIN] + ["something new entirely", ""]
    assert np.array_equal(again.predict_proba(texts), tagger.predict_proba(texts))
    assert [again.tag(t) for t in texts] == [tagger.tag(t) for t in texts]


def test_arrays_survive_npz(tagger: StageTagger, tmp_path: Path) -> None:
    path = tmp_path / "stages.npz"
    np.savez(path, allow_pickle=False, **tagger.to_arrays())
    with np.load(path, allow_pickle=False) as npz:
        again = StageTagger.from_arrays({k: npz[k] for k in npz.files})
    assert again.predict(["how old r u"]) == tagger.predict(["how old r u"])


def test_from_arrays_rejects_wrong_shapes(tagger: StageTagger) -> None:
    arrays = tagger.to_arrays()
    arrays["stage_coef"] = arrays["stage_coef"][:, :-1]
    with pytest.raises(ValueError):
        StageTagger.from_arrays(arrays)
    arrays = tagger.to_arrays()
    arrays["stage_cols"] = arrays["stage_cols"] + (1 << 20)
    with pytest.raises(ValueError):
        StageTagger.from_arrays(arrays)


def test_arrays_are_small() -> None:
    arrays = train_stage_tagger().to_arrays()
    assert sum(v.nbytes for v in arrays.values()) < 200_000


def test_arrays_hold_no_training_text(tagger: StageTagger) -> None:
    blob = b"".join(v.tobytes() for v in tagger.to_arrays().values())
    for text, _ in TRAIN:
        assert text.encode() not in blob


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀🔥💯",
        "\x00\x07\x1b[31m",
        "Привет, как дела?",
        "x" * 1_000_000,
        "how old\n\n\tr u",
        "\ud800",
    ],
)
def test_odd_input_never_crashes(tagger: StageTagger, text: str) -> None:
    assert isinstance(tagger.tag(text), tuple)
    p = tagger.predict_proba([text])
    assert np.isfinite(p).all()


def test_fit_validates_input() -> None:
    with pytest.raises(ValueError):
        StageTagger().fit(["a", "b"], ["neutral"])
    with pytest.raises(ValueError):
        StageTagger().fit(["a", "b"], ["neutral", "neutral"])


def test_seed_examples_cover_every_label() -> None:
    seeds = seed_examples()
    assert {lab for _, lab in seeds} == set(DATASET_LABELS)
    assert all(t and t == t.strip() for t, _ in seeds)


def test_macro_f1() -> None:
    f = macro_f1(["a", "a", "b"], ["a", "b", "b"], labels=["a", "b"])
    assert f["a"] == pytest.approx(2 / 3) and f["b"] == pytest.approx(2 / 3)
    assert f["macro"] == pytest.approx(2 / 3)


def _write_items(path: Path, n_convs: int = 12) -> None:
    lines = []
    for i, (text, label) in enumerate(TRAIN * 2):
        rec = {
            "item": f"x-{i}",
            "label": label,
            "text": text,
            "conversation_id": f"c{i % n_convs}",
            "turn": None,
        }
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_load_stage_items_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    _write_items(good)
    assert len(load_stage_items(good)) == 2 * len(TRAIN)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "hi", "label": "neutral", "conversation_id": "c"}\n{"text": "x"\n', encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"bad\.jsonl:2"):
        load_stage_items(bad)
    bad.write_text('{"text": "hi", "label": "nonsense", "conversation_id": "c"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown label"):
        load_stage_items(bad)


def test_evaluate_stages_reports_every_variant(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    _write_items(path)
    res = evaluate_stages(path, folds=3, n_buckets=1 << 10)
    for variant in ("rules", "model", "combined"):
        assert 0.0 <= res["holdout"][variant]["macro"] <= 1.0
        assert len(res["cv"][variant]["folds"]) == 3


def test_train_stage_tagger_seeds_only() -> None:
    tagger = train_stage_tagger(n_buckets=1 << 12)
    assert set(tagger.classes_) == set(DATASET_LABELS)
    assert Stage.INFORMATION_GATHERING in tagger.tag("how old are u")
