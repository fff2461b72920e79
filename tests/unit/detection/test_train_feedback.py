"""``safeguarding train --feedback``: moderators' labelled decisions join the train part as their own
source, never dev or test, and show in the model card. Tiny synthetic data only; the bundled model is
untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from safeguarding.cli import main
from safeguarding.detection.artifact import MANIFEST_FILE
from safeguarding.detection.data.feedback import FEEDBACK_SOURCE, feedback_line, load_feedback
from safeguarding.detection.train import TrainOptions, TrainResult, train
from safeguarding.errors import InputError
from safeguarding.synth import make_dataset


def write_feedback(path: Path, n: int = 24, seed: int = 5) -> tuple[int, int]:
    """Synthetic conversations labelled as a moderator would: (grooming, benign) counts."""
    lines = []
    for s in make_dataset(n, seed):
        label = "grooming" if s.label else "benign"
        lines.append(feedback_line(f"acme/{s.conversation.id}", s.conversation.messages, label, s.suspect,
                                   tenant="acme", action="suspend" if s.label else "dismiss"))  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    grooming = sum(1 for x in lines if x["label"] == "grooming")
    return grooming, len(lines) - grooming


def test_train_adds_feedback_to_the_train_part_only_and_reports_it(
    tiny_data: Path, tiny_options: TrainOptions, tiny_model: TrainResult, tmp_path: Path
) -> None:
    fb = tmp_path / "feedback.jsonl"
    grooming, benign = write_feedback(fb)
    assert grooming and benign
    result = train(tiny_data, tmp_path / "model", tiny_options, feedback=fb)
    counts = result.counts[FEEDBACK_SOURCE]
    assert counts["train_rows"] > 0 and counts.get("train_pos_authors", 0) == grooming
    assert not any(k.startswith("dev_") for k in counts)  # never in dev (nor test: not even loaded there)
    assert FEEDBACK_SOURCE not in result.dev_metrics["by_source"]
    assert result.version != tiny_model.version  # the feedback file is part of the data fingerprint
    manifest = json.loads((tmp_path / "model" / MANIFEST_FILE).read_text())
    assert manifest[FEEDBACK_SOURCE]["conversations"] == grooming + benign
    assert manifest[FEEDBACK_SOURCE]["grooming"] == grooming and FEEDBACK_SOURCE in manifest["sources"]
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert f"| {FEEDBACK_SOURCE} |" in card and "train part only" in card


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ({"id": "c1", "label": "maybe", "messages": [{"author": "a", "text": "x"}]}, "'label'"),
        ({"id": "c1", "label": "grooming", "suspect": None, "messages": [{"author": "a", "text": "x"}]},
         "suspect"),
        ({"id": "c1", "label": "grooming", "suspect": "b", "messages": [{"author": "a", "text": "x"}]},
         "suspect"),
        ({"id": "c1", "label": "benign", "messages": [{"author": "a", "text": 3}]}, "messages[0].text"),
        ({"id": "c1", "label": "benign", "messages": []}, "empty"),
    ],
)  # fmt: skip
def test_bad_feedback_lines_name_the_line_and_the_field(
    tmp_path: Path, line: dict[str, Any], problem: str
) -> None:
    fb = tmp_path / "fb.jsonl"
    ok = {"id": "c0", "label": "benign", "suspect": None, "messages": [{"author": "a", "text": "hi"}]}
    fb.write_text(json.dumps(ok) + "\n" + json.dumps(line) + "\n")
    with pytest.raises(InputError) as exc:
        list(load_feedback(fb))
    assert problem in str(exc.value) and ":2" in str(exc.value)


def test_the_command_passes_the_feedback_file_to_training(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safeguarding.detection.train as train_module

    seen: dict[str, Any] = {}

    def fake_train(data_dir: Path, out_dir: Path, opts: TrainOptions, **kw: Any) -> Any:
        seen.update(kw)
        return type("R", (), {"version": "v", "config": type("C", (), {"threshold": 0.5})()})()

    monkeypatch.setattr(train_module, "train", fake_train)
    fb = tmp_path / "feedback.jsonl"
    write_feedback(fb, n=4)
    res = CliRunner().invoke(
        main, ["train", str(tiny_data), "-o", str(tmp_path / "m"), "--feedback", str(fb)]
    )
    assert res.exit_code == 0, res.output
    assert seen["feedback"] == fb
    res = CliRunner().invoke(main, ["train", str(tiny_data), "-o", str(tmp_path / "m"), "--feedback", "nope"])
    assert res.exit_code == 2
