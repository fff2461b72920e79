"""Moderator feedback as training data: the file ``safeguarding feedback export`` writes and ``train``
reads with ``--feedback``.

One conversation a line, in the ``scan`` contract's shape plus a label::

    {"id": "acme/c1", "label": "benign" | "grooming", "suspect": "a1" | null,
     "messages": [{"author": "a1", "text": "...", "time": "2026-01-05T18:01:00+00:00"}, ...],
     "tenant": "acme", "conversation": "c1", "alert": "e8:0", "action": "dismiss", "decided_at": "..."}

``benign``: a moderator dismissed the alert as not harmful (``suspect`` is the author the detector
blamed, a hard negative). ``grooming``: a moderator confirmed a grooming alert (warn, restrict, suspend)
or escalated it; ``suspect`` is the account acted on and must be an author of the conversation. The
other keys are provenance and are not read by training.

The records form their own source, :data:`FEEDBACK_SOURCE`, kept in the train partition only: the dev
and test parts stay comparable between models trained with and without feedback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from safeguarding.detection.data.conversations import conversation_from_obj
from safeguarding.detection.data.corpora import _json_lines
from safeguarding.detection.data.records import LabelledConversation
from safeguarding.errors import InputError
from safeguarding.types import Message

__all__ = ["FEEDBACK_SOURCE", "LABELS", "feedback_line", "load_feedback"]

FEEDBACK_SOURCE = "moderator_feedback"
LABELS = {"benign": 0, "grooming": 1}


def feedback_line(
    cid: str, messages: Sequence[Message], label: str, suspect: str | None, **provenance: Any
) -> dict[str, Any]:
    """One line of the feedback file (the exporter's side of :func:`load_feedback`)."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {sorted(LABELS)}")
    return {
        "id": cid,
        "label": label,
        "suspect": suspect,
        "messages": [{"author": m.author, "text": m.text, "time": m.time} for m in messages],
        **provenance,
    }


def load_feedback(path: str | Path) -> Iterator[LabelledConversation]:
    """Read and validate a feedback file; errors name the line and the field, never the text."""
    seen: set[str] = set()
    for where, obj in _json_lines(Path(path)):
        conv = conversation_from_obj(obj, where=where, source=FEEDBACK_SOURCE)
        if conv.id in seen:
            raise InputError(f"duplicate conversation id {conv.id!r}", where=where)
        seen.add(conv.id)
        label = obj.get("label")
        if label not in LABELS:
            raise InputError(f"'label' must be one of {', '.join(sorted(LABELS))}", where=where)
        suspect = obj.get("suspect")
        if suspect is not None and not isinstance(suspect, str):
            raise InputError("'suspect' must be a string or null", where=where)
        if not conv.messages:
            raise InputError("'messages' is empty", where=where)
        positives: frozenset[str] = frozenset()
        if LABELS[label]:
            if suspect is None or all(m.author != suspect for m in conv.messages):
                raise InputError("a 'grooming' line needs a 'suspect' who wrote in it", where=where)
            positives = frozenset({suspect})
        yield LabelledConversation(
            conv, FEEDBACK_SOURCE, f"{FEEDBACK_SOURCE}:{conv.id}", positives, LABELS[label]
        )
