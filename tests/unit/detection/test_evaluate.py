from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from safeguarding.cli import main
from safeguarding.detection.train import TrainResult
from safeguarding.synth import make_dataset


def _pan12(tmp: Path) -> tuple[Path, Path]:
    convs = []
    predators = set()
    for s in make_dataset(20, 4):
        msgs = "".join(
            f"<message line='{i + 1}'><author>{m.author}</author><time>20:{i % 60:02d}</time>"
            f"<text>{m.text.replace('&', '&amp;').replace('<', '&lt;')}</text></message>"
            for i, m in enumerate(s.conversation.messages)
        )
        convs.append(f"<conversation id='{s.conversation.id}'>{msgs}</conversation>")
        if s.label and s.suspect:
            predators.add(s.suspect)
    xml = tmp / "corpus.xml"
    xml.write_text("<conversations>" + "".join(convs) + "</conversations>")
    ids = tmp / "predators.txt"
    ids.write_text("\n".join(sorted(predators)) + "\n")
    return xml, ids


def test_evaluate_reports_everything(tiny_model: TrainResult, tiny_data: Path, tmp_path: Path) -> None:
    xml, ids = _pan12(tmp_path)
    looks = tmp_path / "looks.jsonl"
    looks.write_text("".join(json.dumps(s.to_record(labels=True)) + "\n" for s in make_dataset(10, 8)))
    out = tmp_path / "report.json"
    r = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(tiny_data),
            "--model",
            str(tiny_model.out_dir),
            "--pan12",
            str(xml),
            "--predators",
            str(ids),
            "--lookalikes",
            str(looks),
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert report["model"] == tiny_model.version
    for part in ("data_test", "pan12"):
        p1 = report[part]["pan12_problem1"]
        assert {"precision", "recall", "f1", "f05"} <= set(p1)
        assert "latency" in report[part] and "by_source" in report[part]
    assert report["pan12"]["pan12_problem1"]["recall"] > 0.5
    assert 0 <= report["lookalikes"]["false_positive_rate"] <= 1


def test_evaluate_needs_something(tiny_model: TrainResult) -> None:
    r = CliRunner().invoke(main, ["evaluate", "--model", str(tiny_model.out_dir)])
    assert r.exit_code == 2
    assert "nothing to evaluate" in r.output


def test_pan12_without_predators_is_an_input_error(tiny_model: TrainResult, tmp_path: Path) -> None:
    xml, _ = _pan12(tmp_path)
    r = CliRunner().invoke(main, ["evaluate", "--model", str(tiny_model.out_dir), "--pan12", str(xml)])
    assert r.exit_code == 2
