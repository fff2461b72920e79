"""``safeguarding scan``: batch scoring with the streaming detector, per the stable contract in design.md §3.

Output is written to a temporary file and moved into place only when every input line was valid, so a
bad line (exit code 2) never leaves half an output behind.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Literal

from safeguarding.detection.streaming import Detector
from safeguarding.types import Assessment, Conversation

Format = Literal["jsonl", "pan12"]


def example_path() -> Path:
    """The small example shipped with the package (synthetic conversations made by our generator)."""
    from importlib import resources

    return Path(str(resources.files("safeguarding") / "examples" / "example.jsonl"))


def read_input(path: Path, fmt: Format) -> Iterator[Conversation]:
    if fmt == "pan12":
        from safeguarding.detection.data.pan12 import read_pan12

        return read_pan12(path)
    from safeguarding.detection.data.conversations import read_jsonl

    return read_jsonl(path)


def conversation_line(a: Assessment) -> dict[str, object]:
    return {
        "id": a.conversation,
        "risk": round(a.risk, 4),
        "flagged": a.flagged,
        "alert_at": a.alert_at,
        "suspect": a.suspect,
        "stages": [s.value for s in a.stages],
    }


def scan_conversations(det: Detector, conversations: Iterable[Conversation]) -> Iterator[dict[str, object]]:
    for c in conversations:
        yield conversation_line(det.assess(c))


def scan_authors(det: Detector, conversations: Iterable[Conversation]) -> Iterator[dict[str, object]]:
    """PAN12 problem 1: one line per author, aggregated over all their conversations (max risk)."""
    risk: dict[str, float] = {}
    flagged: dict[str, bool] = {}
    for c in conversations:
        state = det.new_state(c.id)
        for m in c.messages:
            det.update(state, m)
        for name, s in state.authors.items():
            risk[name] = max(risk.get(name, 0.0), s.risk)
            flagged[name] = flagged.get(name, False) or s.alerted
    for author in risk:
        yield {"author": author, "risk": round(risk[author], 4), "flagged": flagged[author]}


def run_scan(
    det: Detector, src: Path, out: Path | None, *, fmt: Format = "jsonl", authors: bool = False
) -> int:
    """Score ``src`` into ``out`` (stdout when None) atomically; return the number of lines written."""
    convs = read_input(src, fmt)
    lines = scan_authors(det, convs) if authors else scan_conversations(det, convs)
    target_dir = out.parent if out is not None else None
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".scan-", suffix=".jsonl")
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                n += 1
        if out is None:
            with open(tmp, encoding="utf-8") as fh:
                _copy(fh, sys.stdout)
            os.unlink(tmp)
        else:
            os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def _copy(src: IO[str], dst: IO[str]) -> None:
    shutil.copyfileobj(src, dst)
    dst.flush()
