"""Reader for the official PAN 2012 Sexual Predator Identification corpus (XML + predator id list).

::

    <conversations>
      <conversation id="...">
        <message line="1"><author>md5</author><time>HH:MM</time><text>...</text></message>
        ...

The test corpus holds about 155,000 conversations in a few hundred MB, so the file is streamed with
:func:`xml.etree.ElementTree.iterparse` and every element is cleared as soon as it has been turned into
a :class:`~safeguarding.types.Message`: memory stays flat whatever the file size
(``benchmarks/bench_pan12_loader.py`` measures it).

The organisers replaced e-mail addresses with an ``<email/>`` element inside ``<text>``. It becomes
:data:`EMAIL_TOKEN`, the placeholder the other corpora here use, so that "here is my e-mail" still reads
as an off-platform move and text on both sides of the element is kept.

ElementTree's expat parser does not fetch external entities and refuses entity expansion bombs, so an
untrusted file cannot make the reader reach the network or blow up memory.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Literal
from xml.parsers.expat import ErrorString

from safeguarding.detection.data.records import LabelledConversation
from safeguarding.errors import InputError
from safeguarding.types import Conversation, Message

__all__ = [
    "EMAIL_TOKEN",
    "UNKNOWN_AUTHOR",
    "load_pan12_labelled",
    "load_vtpan_segments",
    "parse_segment",
    "read_pan12",
    "read_predator_ids",
]

logger = logging.getLogger(__name__)

EMAIL_TOKEN = "[EMAIL]"
"""What an ``<email/>`` element inside ``<text>`` becomes."""

UNKNOWN_AUTHOR = "unknown"
"""Author of text whose speaker the source does not record (VTPAN segments)."""

OnDuplicate = Literal["keep", "skip", "error"]


class _SemanticError(Exception):
    """Well-formed XML of the wrong shape; located afterwards (ElementTree events carry no line number)."""

    def __init__(self, reason: str, conversation: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.conversation = conversation


def read_pan12(
    path: str | os.PathLike[str] | IO[bytes],
    *,
    name: str | None = None,
    on_duplicate: OnDuplicate = "keep",
) -> Iterator[Conversation]:
    """Stream the conversations of a PAN12 XML file, in document order.

    A missing or empty ``<text>`` gives ``""``; a missing or empty ``<time>`` gives ``None``; author ids
    are stripped (the official readme shows ``<author> id </author>``). Malformed XML raises
    :class:`InputError` with the parser's line number; a conversation without an id or a message without
    an author raises it too, located at the conversation's opening tag when the input is a file.

    ``on_duplicate`` says what a repeated conversation id does. It defaults to ``keep`` because this is a
    third-party format read as published (the toy training excerpt repeats one conversation verbatim);
    the corpus loaders use ``skip``, and ``scan`` may prefer ``error`` like its JSONL reader.
    """
    if isinstance(path, str | os.PathLike):
        opened = os.fspath(path)
        file_path: str | None = opened
        label = name if name is not None else opened
        try:
            fh: IO[bytes] = open(opened, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as e:
            raise InputError(f"cannot read file: {e.strerror or e}", where=label) from None
    else:
        file_path = None
        fh = path
        label = name if name is not None else str(getattr(path, "name", "<input>"))
    try:
        yield from _iter_conversations(fh, label, on_duplicate)
    except ET.ParseError as e:
        line, column = e.position
        reason = ErrorString(e.code) if e.code else str(e)
        raise InputError(f"malformed XML: {reason} (column {column + 1})", where=f"{label}:{line}") from None
    except _SemanticError as e:
        where = label
        if file_path is not None and e.conversation is not None:
            line_no = _find_conversation_line(file_path, e.conversation)
            if line_no is not None:
                where = f"{label}:{line_no}"
        raise InputError(e.reason, where=where) from None
    finally:
        if file_path is not None:
            fh.close()


def _iter_conversations(fh: IO[bytes], label: str, on_duplicate: OnDuplicate) -> Iterator[Conversation]:
    """Turn each ``</conversation>`` into a Conversation, then drop it from the tree.

    ``start`` events are requested only to get hold of the root early: clearing it after every
    conversation keeps memory flat (an ``end``-only parse is ~6 % faster but keeps one emptied element
    per conversation alive until the end). What does grow is the set of seen ids, ~100 bytes each.
    """
    seen: set[str] = set()
    previous: str | None = None
    count = 0
    root: ET.Element | None = None
    for event, elem in ET.iterparse(fh, events=("start", "end")):
        if event == "start":
            if root is None:
                root = elem
                if elem.tag != "conversations":
                    raise _SemanticError(f"root element is <{elem.tag}>, expected <conversations>", None)
            continue
        if elem.tag != "conversation":
            continue
        cid = (elem.get("id") or "").strip()
        if not cid:
            after = f" (after conversation {previous!r})" if previous else " (the first one)"
            raise _SemanticError(f"<conversation> without an id attribute{after}", None)
        previous = cid
        messages = tuple(_message(m, cid, i) for i, m in enumerate(elem.iterfind("message")))
        if root is not None:
            root.clear()
        if cid in seen:
            if on_duplicate == "error":
                raise _SemanticError(f"duplicate conversation id {cid!r}", cid)
            if on_duplicate == "skip":
                logger.info("skipping a repeated PAN12 conversation id in %s", label)
                continue
        seen.add(cid)
        count += 1
        yield Conversation(id=cid, messages=messages)
    logger.debug("read %d PAN12 conversations from %s", count, label)


def _message(elem: ET.Element, conv_id: str, index: int) -> Message:
    author_el = elem.find("author")
    author = (author_el.text or "").strip() if author_el is not None else ""
    if not author:
        line = elem.get("line", str(index + 1))
        raise _SemanticError(f"conversation {conv_id!r}, message line={line}: missing <author>", conv_id)
    time_el = elem.find("time")
    time = (time_el.text or "").strip() if time_el is not None else ""
    text_el = elem.find("text")
    text = _text_of(text_el) if text_el is not None else ""
    return Message(author=author, text=text, time=time or None)


def _text_of(elem: ET.Element) -> str:
    """The element's text with ``<email/>`` replaced by :data:`EMAIL_TOKEN` and other markup dropped."""
    if len(elem) == 0:
        return elem.text or ""
    parts = [elem.text or ""]
    for child in elem:
        parts.append(EMAIL_TOKEN if child.tag == "email" else "".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)


def _find_conversation_line(path: str, conv_id: str) -> int | None:
    """Line number of ``<conversation id="conv_id"``; only run on the error path."""
    needle = f'id="{conv_id}"'.encode()
    try:
        with open(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                if needle in line and b"<conversation" in line:
                    return lineno
    except OSError:
        return None
    return None


def read_predator_ids(path: str | os.PathLike[str]) -> frozenset[str]:
    """The author ids of a PAN12 predator list: one id a line, surrounding blanks and blank lines ignored."""
    label = os.fspath(path)
    ids: set[str] = set()
    try:
        with open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").strip()
                except UnicodeDecodeError:
                    raise InputError("invalid UTF-8", where=f"{label}:{lineno}") from None
                if not line:
                    continue
                if len(line.split()) != 1:
                    raise InputError("expected one author id on the line", where=f"{label}:{lineno}")
                ids.add(line)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", where=label) from None
    return frozenset(ids)


# ------------------------------------------------------------------- labelled PAN12 for training


_MARKER_RE = re.compile(r"(?<!\S)([0-9a-f]{32}):(?=\s|$)")


def parse_segment(segment: str) -> tuple[Message, ...]:
    """Split a VTPAN segment at ``<32-hex-id>:`` markers: each marker opens a turn by that id.

    Text before the first marker belongs to :data:`UNKNOWN_AUTHOR`. See :func:`load_vtpan_segments` for
    why the loader does not use this by default.
    """
    matches = list(_MARKER_RE.finditer(segment))
    out: list[Message] = []
    head = segment[: matches[0].start() if matches else len(segment)].strip()
    if head:
        out.append(Message(UNKNOWN_AUTHOR, head))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(segment)
        out.append(Message(m.group(1), segment[m.end() : end].strip()))
    return tuple(out)


_SHINGLE = 8


def _segment_groups(segments: list[str]) -> list[str]:
    """Split groups for segments that carry no conversation id.

    Two segments are linked when they share an 8-token shingle (overlapping windows of one chat) or a
    mentioned 32-hex user id (PAN12 put user ids where a user was named; chats of one channel share them);
    each connected component is one group, keyed by a digest of its first member, so it is stable.
    """
    parent = list(range(len(segments)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, int] = {}
    for i, seg in enumerate(segments):
        toks = seg.split()
        keys = {" ".join(toks[j : j + _SHINGLE]) for j in range(max(1, len(toks) - _SHINGLE + 1))}
        keys.update(re.findall(r"[0-9a-f]{32}", seg))
        for key in keys:
            j = owner.setdefault(key, i)
            if j != i:
                parent[find(i)] = find(j)
    first: dict[int, int] = {}
    for i in range(len(segments)):
        first.setdefault(find(i), i)
    return [f"pan12_vtpan:{_digest(segments[first[find(i)]])}" for i in range(len(segments))]


def load_vtpan_segments(
    path: str | Path, predator_ids: Collection[str] = frozenset(), *, split_turns: bool = False
) -> Iterator[LabelledConversation]:
    """The labelled PAN12 segments (CSV ``segment,label``); source ``pan12_vtpan``.

    By default a segment is one message by :data:`UNKNOWN_AUTHOR`: PROVENANCE says the segments hold no
    author ids, and the ``<hex>:`` markers look like IRC addressing (PAN12 replaced named users by their
    id) rather than speaker tags. They occur only in negative segments, so splitting on them
    (``split_turns=True``, :func:`parse_segment`) makes the message count a label leak. Labels are
    conversation-level; ``positive_authors`` holds marker ids found in ``predator_ids`` (when splitting).
    """
    p = Path(path)
    rows: list[tuple[str, int]] = []
    try:
        with open(p, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header != ["segment", "label"]:
                raise InputError("expected the header 'segment,label'", where=f"{p}:1")
            for row in reader:
                if not row:
                    continue
                if len(row) != 2 or row[1].strip() not in ("0", "1"):
                    raise InputError(
                        "expected 'segment,label' with label 0 or 1", where=f"{p}:{reader.line_num}"
                    )
                rows.append((row[0], int(row[1])))
    except (csv.Error, UnicodeDecodeError, OSError) as e:
        raise InputError(f"cannot read CSV: {e}", where=str(p)) from None
    groups = _segment_groups([s for s, _ in rows])
    for (segment, label), group in zip(rows, groups, strict=True):
        messages = parse_segment(segment) if split_turns else (Message(UNKNOWN_AUTHOR, segment),)
        conv = Conversation(id=f"pan12_vtpan:{_digest(segment)}", messages=messages, source="pan12_vtpan")
        positive = frozenset(conv.authors) & frozenset(predator_ids) if label else frozenset()
        yield LabelledConversation(conv, "pan12_vtpan", group, positive, label)


def load_pan12_labelled(
    xml_paths: Iterable[str | Path], predator_ids: Collection[str], *, source: str = "pan12_toy"
) -> Iterator[LabelledConversation]:
    """PAN12 XML conversations labelled by a predator list; repeated conversation ids are skipped.

    The group links conversations through their predators (union-find over predator ids), so all of one
    predator's chats stay on one side; other conversations are grouped by their sorted author set. This
    reads the XML twice to keep memory flat.
    """
    paths = [Path(p) for p in xml_paths]
    predators = frozenset(predator_ids)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in paths:
        for conv in read_pan12(p, on_duplicate="skip"):
            found = sorted(predators.intersection(conv.authors))
            for other in found[1:]:
                a, b = sorted((find(found[0]), find(other)))
                parent[b] = a
    seen: set[str] = set()
    for p in paths:
        for conv in read_pan12(p, on_duplicate="skip"):
            if conv.id in seen:
                continue
            seen.add(conv.id)
            positive = predators.intersection(conv.authors)
            group = find(min(positive)) if positive else "+".join(sorted(conv.authors)) or conv.id
            yield LabelledConversation(
                replace(conv, source=source), source, f"{source}:{group}", positive, int(bool(positive))
            )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
