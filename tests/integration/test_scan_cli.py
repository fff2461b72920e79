"""The `safeguarding scan` contract (design.md §3), through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from safeguarding.cli import main
from safeguarding.synth import make_dataset

KEYS = {"id", "risk", "flagged", "alert_at", "suspect", "stages"}


def _write_jsonl(path: Path, n: int = 12) -> list[str]:
    ids = []
    with path.open("w") as fh:
        for s in make_dataset(n, 5):
            fh.write(json.dumps(s.to_record()) + "\n")
            ids.append(s.conversation.id)
    return ids


def test_scan_example_runs_from_console_script() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "safeguarding", "scan", "--example"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert lines and all(set(x) == KEYS for x in lines)
    assert any(x["flagged"] for x in lines)


def test_scan_contract_in_input_order(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    ids = _write_jsonl(src)
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(main, ["scan", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ids
    for x in lines:
        assert set(x) == KEYS
        assert 0.0 <= x["risk"] <= 1.0
        assert (x["alert_at"] is not None) == x["flagged"]
        assert all(isinstance(s, str) for s in x["stages"])


def test_scan_authors(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    _write_jsonl(src)
    r = CliRunner().invoke(main, ["scan", str(src), "--authors"])
    assert r.exit_code == 0
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows and all(set(x) == {"author", "risk", "flagged"} for x in rows)
    assert len({x["author"] for x in rows}) == len(rows)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("{not json", "invalid JSON"),
        ('{"id": "x", "messages": [{"author": "a"}]}', "text"),
        ('{"id": 5, "messages": []}', "id"),
        ('["a list"]', "object"),
    ],
)
def test_bad_jsonl_exits_2_and_writes_nothing(tmp_path: Path, bad: str, needle: str) -> None:
    src = tmp_path / "in.jsonl"
    good = json.dumps({"id": "ok", "messages": [{"author": "a", "text": "hi", "time": None}]})
    good2 = json.dumps({"id": "ok2", "messages": [{"author": "a", "text": "hi", "time": None}]})
    src.write_text(f"{good}\n{good2}\n{bad}\n")
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(main, ["scan", str(src), "-o", str(out)])
    assert r.exit_code == 2
    assert ":3" in r.output or "line 3" in r.output
    assert needle in r.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_bad_pan12_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "c.xml"
    src.write_text(
        "<conversations><conversation id='1'><message line='1'><author>a</author>\n<text>hi</oops>"
    )
    r = CliRunner().invoke(main, ["scan", str(src), "--format", "pan12"])
    assert r.exit_code == 2
    assert "c.xml:2" in r.output and "malformed XML" in r.output


def test_pan12_input(tmp_path: Path) -> None:
    src = tmp_path / "c.xml"
    src.write_text(
        "<conversations><conversation id='c1'>"
        "<message line='1'><author>a1</author><time>20:48</time><text>hey</text></message>"
        "<message line='2'><author>b2</author><time>20:49</time><text>hi how r u</text></message>"
        "</conversation></conversations>"
    )
    r = CliRunner().invoke(main, ["scan", str(src), "--format", "pan12"])
    assert r.exit_code == 0
    (line,) = [json.loads(x) for x in r.stdout.splitlines()]
    assert line["id"] == "c1" and not line["flagged"]


def test_scan_needs_file_or_example() -> None:
    r = CliRunner().invoke(main, ["scan"])
    assert r.exit_code == 2
