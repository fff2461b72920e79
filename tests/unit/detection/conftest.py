"""Fixtures: a tiny data directory in the shared-data formats, written from our own synthetic generator,
and a model trained on it by the real pipeline (no research data is used in tests)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from safeguarding.detection import Detector, load_detector
from safeguarding.detection.train import TrainOptions, TrainResult, train
from safeguarding.synth import make_dataset

# Words that appear only in the tiny training data; the artifact must not contain them.
MARKERS = ("zorblaxian", "quffleberry", "vantrimoko")


def write_tiny_data(root: Path, n: int = 160, seed: int = 11) -> Path:
    pj_rows: list[dict[str, object]] = []
    chat_rows: list[dict[str, object]] = []
    stage_rows: list[dict[str, object]] = []
    for i, s in enumerate(make_dataset(n, seed)):
        msgs = s.conversation.messages
        if s.label and s.suspect and s.victim:
            group = f"pj_{i:04d}"
            pred = [m.text for m in msgs if m.author == s.suspect]
            pred[0] = pred[0] + " " + MARKERS[i % len(MARKERS)]
            decoy = [m.text for m in msgs if m.author == s.victim]
            for role, utt, label in (("predator", pred, 1), ("decoy", decoy, 0)):
                pj_rows.append(
                    {
                        "author_id": f"{group}_{role}",
                        "group_id": group,
                        "role": role,
                        "label": label,
                        "n_utterances": len(utt),
                        "utterances": utt,
                        "source_blob": "synthetic",
                    }
                )
            for j, (m, st) in enumerate(zip(msgs, s.stages_by_message, strict=True)):
                if st and j % 3 == 0:
                    label = {"meeting": "offline_escalation", "off_platform": "offline_escalation"}.get(
                        st[0].value, st[0].value
                    )
                    if label != "gifts":
                        stage_rows.append(
                            {
                                "item": f"{label}-{i}-{j}",
                                "label": label,
                                "label_de": "",
                                "conversation_id": group,
                                "turn": None,
                                "text": m.text,
                            }
                        )
        elif not s.label:
            chat_rows.append(
                {
                    "conversation_id": s.conversation.id,
                    "prompt": "",
                    "ratings": {},
                    "start": None,
                    "label": 0,
                    "messages": [
                        {"turn": j, "sender": m.author, "timestamp": m.time, "text": m.text}
                        for j, m in enumerate(msgs)
                    ],
                }
            )
    (root / "pj_koutli").mkdir(parents=True)
    with gzip.open(root / "pj_koutli" / "pj_koutli_train.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in pj_rows)
    (root / "chitchat_byu").mkdir()
    with gzip.open(root / "chitchat_byu" / "chitchat_train.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in chat_rows)
    (root / "grooming_stages_pan12_ugurluer").mkdir()
    with (root / "grooming_stages_pan12_ugurluer" / "grooming_stages_train.jsonl").open("w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in stage_rows)
    return root


TINY_OPTIONS = TrainOptions(seed=0, synthetic_conversations=60, max_conversations_per_source=500)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("tiny-data"))


@pytest.fixture(scope="session")
def tiny_model(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(tiny_data, tmp_path_factory.mktemp("tiny-model") / "model", TINY_OPTIONS)


@pytest.fixture(scope="session")
def bundled() -> Detector:
    return load_detector()


@pytest.fixture(scope="session")
def markers() -> tuple[str, ...]:
    return MARKERS


@pytest.fixture(scope="session")
def tiny_options() -> TrainOptions:
    return TINY_OPTIONS
