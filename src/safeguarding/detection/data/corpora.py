"""Loaders for the training corpora under ``shared/data`` (each folder's PROVENANCE.md is the reference).

Every loader streams its file (gzip + one JSON object a line) and yields
:class:`~safeguarding.detection.data.records.LabelledConversation` records whose ``group`` keeps related
records on one side of the split: a Perverted-Justice predator with his decoys, all windows of a chat.
Records are validated as they are read; a bad line raises :class:`~safeguarding.errors.InputError`
naming the file and line, never quoting its text (the corpora hold sexual content aimed at minors).

:data:`SOURCES` lists each source with its licence terms, so a model card can state what a model trained
on them inherits. Most are research-only; ``nps_chat`` is explicitly non-commercial.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal

from safeguarding.detection.data.conversations import read_jsonl
from safeguarding.detection.data.pan12 import load_pan12_labelled, load_vtpan_segments, read_predator_ids
from safeguarding.detection.data.records import LabelledConversation, StageItem
from safeguarding.errors import InputError
from safeguarding.types import Conversation, Message

__all__ = [
    "SOURCES",
    "SourceInfo",
    "interleave_streams",
    "load_chitchat",
    "load_corpus",
    "load_generic",
    "load_overheard",
    "load_pj_pairs",
    "load_pj_streams",
    "load_stage_items",
    "pseudonymise_overheard",
    "window_records",
    "windows",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Where a source lives under the data directory and the terms a trained model inherits from it."""

    name: str
    folder: str
    kind: Literal["conversations", "stage_items"]
    licence: str
    commercial_use: bool
    default: bool = True
    """Loaded by :func:`load_corpus` when no sources are named."""


_RESEARCH = "no licence stated; research use only"
SOURCES: dict[str, SourceInfo] = {
    s.name: s
    for s in (
        SourceInfo("pj_koutli", "pj_koutli", "conversations",
                   "no licence (all rights reserved); Perverted-Justice public archive; research use only, "
                   "do not redistribute", False),
        SourceInfo("pj_koutli_pairs", "pj_koutli", "conversations",
                   "as pj_koutli (same data, streams interleaved approximately)", False, default=False),
        SourceInfo("pan12_toy", "pan12", "conversations",
                   "PAN12 terms: restricted research access (Zenodo 3713280); eSPD: research only", False),
        SourceInfo("pan12_vtpan", "pan12_vtpan_segments_constien", "conversations",
                   "no licence; PAN12 terms apply (research use only)", False),
        SourceInfo("chitchat_byu", "chitchat_byu", "conversations", "MIT", True),
        SourceInfo("conda_dota2", "conda_dota2", "conversations", _RESEARCH, False),
        SourceInfo("disco_discord", "disco_discord", "conversations",
                   "no data licence stated (scripts GPL-3.0); research use only", False),
        SourceInfo("formspring_qa", "formspring_qa", "conversations", _RESEARCH, False),
        SourceInfo("irc_disentanglement", "irc_disentanglement", "conversations",
                   "CC BY 4.0 (attribution required)", True),
        SourceInfo("meld_friends", "meld_friends", "conversations",
                   "repository GPL-3.0; Friends scripts (c) Warner Bros.; research use", False),
        SourceInfo("myspace_bayzick", "myspace_bayzick", "conversations", _RESEARCH, False),
        SourceInfo("nps_chat", "nps_chat", "conversations",
                   "non-commercial, non-profit educational and research use only", False),
        SourceInfo("overheard_ny", "overheard_ny", "conversations",
                   "no licence stated; copyright with the site and contributors; research use only", False),
        SourceInfo("grooming_stages_pan12_ugurluer", "grooming_stages_pan12_ugurluer", "stage_items",
                   "no licence; PAN12 terms apply (research use only)", False, default=False),
    )
}  # fmt: skip
"""Every known source, in loading order. ``commercial_use`` is False unless the licence allows it."""


# --------------------------------------------------------------------------------------------- helpers


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]  # GzipFile is a binary IO
    return open(path, "rb")


def _json_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, object)`` for each non-blank line of a (gzipped) JSONL file."""
    try:
        with _open_binary(path) as fh:
            for lineno, raw in enumerate(fh, start=1):
                where = f"{path}:{lineno}"
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"), strict=False)
                except UnicodeDecodeError:
                    raise InputError("invalid UTF-8", where=where) from None
                except json.JSONDecodeError as e:
                    raise InputError(f"invalid JSON: {e.msg} at column {e.colno}", where=where) from None
                if not isinstance(obj, dict):
                    raise InputError("expected a JSON object", where=where)
                yield where, obj
    except (OSError, EOFError) as e:
        raise InputError(f"cannot read file: {e}", where=str(path)) from None


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise InputError(f"'{key}' must be a {kind.__name__}", where=where)
    return value


# ----------------------------------------------------------------------------------- Perverted-Justice


def load_pj_streams(path: str | Path) -> Iterator[LabelledConversation]:
    """One record per PJ speaker file: that author's utterances as a single-author conversation.

    This is the faithful view of the data (the source split each chat into one file per side and removed
    timestamps). Decoys are adults posing as minors: label 0, but the same group as their predator.
    """
    for where, obj in _json_lines(Path(path)):
        author = _field(obj, "author_id", str, where)
        group = _field(obj, "group_id", str, where)
        utterances = _field(obj, "utterances", list, where)
        role = obj.get("role")
        if role not in ("predator", "decoy"):
            raise InputError("'role' must be 'predator' or 'decoy'", where=where)
        if not all(isinstance(u, str) for u in utterances):
            raise InputError("'utterances' must be strings", where=where)
        conv = Conversation(
            id=author, messages=tuple(Message(author, u) for u in utterances), source="pj_koutli"
        )
        positive = frozenset({author}) if role == "predator" else frozenset()
        yield LabelledConversation(conv, "pj_koutli", group, positive, int(role == "predator"))


def interleave_streams(streams: Iterable[tuple[Message, ...]]) -> tuple[Message, ...]:
    """Merge message streams by relative position: message ``i`` of ``n`` sits at ``(i + 0.5) / n``.

    The true turn order of a PJ chat is unknown (timestamps were removed upstream), so this is an
    approximation: it keeps each side's own order and spreads both sides evenly over the conversation.
    Ties go to the earlier stream; the result is fully deterministic.
    """
    keyed = [
        ((2 * i + 1) / (2 * len(stream)), s, i, m)
        for s, stream in enumerate(streams)
        for i, m in enumerate(stream)
    ]
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return tuple(k[3] for k in keyed)


def load_pj_pairs(path: str | Path) -> Iterator[LabelledConversation]:
    """One conversation per PJ group: the predator's and decoys' streams interleaved (see
    :func:`interleave_streams`; the order is an approximation). Label 1, positive author = the predator.

    The file is not ordered by group, so all streams are held until the end of the file (about the size
    of the uncompressed utterances).
    """
    groups: dict[str, list[LabelledConversation]] = {}
    for record in load_pj_streams(path):
        groups.setdefault(record.group, []).append(record)
    for group, members in groups.items():
        predators = [r for r in members if r.label == 1]
        if not predators:
            logger.info("PJ group without a predator stream skipped")
            continue
        decoys = sorted((r for r in members if r.label == 0), key=lambda r: r.conversation.id)
        ordered = sorted(predators, key=lambda r: r.conversation.id) + decoys
        messages = interleave_streams(r.conversation.messages for r in ordered)
        positive = frozenset().union(*(r.positive_authors for r in predators))
        conv = Conversation(id=group, messages=messages, source="pj_koutli_pairs")
        yield LabelledConversation(conv, "pj_koutli_pairs", group, positive, 1)


# --------------------------------------------------------------------------------- generic negatives


def load_generic(path: str | Path, source: str) -> Iterator[LabelledConversation]:
    """Negatives in the common ``{"id", "source", "messages", "meta"}`` format: label 0, group = id."""
    p = Path(path)
    try:
        fh = _open_binary(p)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", where=str(p)) from None
    with fh:
        for conv in read_jsonl(fh, name=str(p)):
            yield LabelledConversation(replace(conv, source=source), source, conv.id, frozenset(), 0)


NARRATION = "[narration]"


def pseudonymise_overheard(conv: Conversation) -> Conversation:
    """Replace role labels by ``s1``, ``s2`` ... in order of appearance and drop ``[narration]`` lines.

    The labels ("Teen girl", "Little boy") state age and gender: fed to a model they would leak exactly
    what it must not learn to rely on.
    """
    names: dict[str, str] = {}
    out: list[Message] = []
    for m in conv.messages:
        if m.author == NARRATION:
            continue
        alias = names.setdefault(m.author, f"s{len(names) + 1}")
        out.append(Message(alias, m.text, m.time))
    return replace(conv, messages=tuple(out))


def load_overheard(path: str | Path) -> Iterator[LabelledConversation]:
    for r in load_generic(path, "overheard_ny"):
        yield replace(r, conversation=pseudonymise_overheard(r.conversation))


def windows(conv: Conversation, size: int, step: int) -> Iterator[Conversation]:
    """Overlapping windows of ``size`` messages every ``step`` messages, covering every message.

    For long multi-party logs (an NPS room is 500+ interleaved posts). A window's id is
    ``"<id>@<first index>"``; the last window is aligned to the end so the tail is never dropped. Windows
    of one conversation must share its split group: use :func:`window_records` for labelled records.
    """
    if size < 1 or step < 1:
        raise ValueError("size and step must be positive")
    n = len(conv.messages)
    if n <= size:
        yield conv
        return
    starts = list(range(0, n - size + 1, step))
    if starts[-1] + size < n:
        starts.append(n - size)
    for start in starts:
        yield replace(conv, id=f"{conv.id}@{start}", messages=conv.messages[start : start + size])


def window_records(record: LabelledConversation, size: int, step: int) -> Iterator[LabelledConversation]:
    """:func:`windows` of a labelled record, keeping its group and source.

    With author-level labels, a window is positive only if a positive author speaks in it; with
    conversation-level labels (no positive authors known) every window keeps the record's label.
    """
    for w in windows(record.conversation, size, step):
        if record.positive_authors:
            positive = record.positive_authors & frozenset(w.authors)
            yield replace(record, conversation=w, positive_authors=positive, label=int(bool(positive)))
        else:
            yield replace(record, conversation=w)


def load_chitchat(path: str | Path) -> Iterator[LabelledConversation]:
    """BYU chit-chat (its own format): author = sender, time = timestamp, group = conversation id."""
    for where, obj in _json_lines(Path(path)):
        cid = _field(obj, "conversation_id", str, where)
        messages: list[Message] = []
        for i, m in enumerate(_field(obj, "messages", list, where)):
            if not isinstance(m, dict):
                raise InputError(f"messages[{i}] must be an object", where=where)
            sender, text, ts = m.get("sender"), m.get("text"), m.get("timestamp")
            if not isinstance(sender, str) or not isinstance(text, str):
                raise InputError(f"messages[{i}] needs string 'sender' and 'text'", where=where)
            messages.append(Message(sender, text, ts if isinstance(ts, str) else None))
        conv = Conversation(id=cid, messages=tuple(messages), source="chitchat_byu")
        yield LabelledConversation(conv, "chitchat_byu", cid, frozenset(), 0)


def load_stage_items(path: str | Path) -> list[StageItem]:
    """Hand-labelled stage messages; group = PAN12 conversation id (items of one chat stay together)."""
    items: list[StageItem] = []
    for where, obj in _json_lines(Path(path)):
        items.append(
            StageItem(
                text=_field(obj, "text", str, where),
                label=_field(obj, "label", str, where),
                group=_field(obj, "conversation_id", str, where).strip(),
            )
        )
    return items


# ------------------------------------------------------------------------------------------ corpus


def _predator_files(folder: Path) -> frozenset[str]:
    ids: frozenset[str] = frozenset()
    for f in sorted(folder.rglob("*predators*.txt")):
        ids |= read_predator_ids(f)
    return ids


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def _generic(name: str) -> Callable[[Path], Iterator[LabelledConversation]]:
    def load(folder: Path) -> Iterator[LabelledConversation]:
        for f in _files(folder, "*.jsonl.gz"):
            yield from load_generic(f, name)

    return load


def _each(
    pattern: str, loader: Callable[[Path], Iterator[LabelledConversation]]
) -> Callable[[Path], Iterator[LabelledConversation]]:
    def load(folder: Path) -> Iterator[LabelledConversation]:
        for f in _files(folder, pattern):
            yield from loader(f)

    return load


def _vtpan(folder: Path) -> Iterator[LabelledConversation]:
    predators = (
        _predator_files(folder.parent / "pan12") if (folder.parent / "pan12").is_dir() else frozenset()
    )
    for f in _files(folder, "*.csv"):
        yield from load_vtpan_segments(f, predators)


def _pan12_toy(folder: Path) -> Iterator[LabelledConversation]:
    yield from load_pan12_labelled(_files(folder, "toy_train/*.xml"), _predator_files(folder))


_LOADERS: dict[str, Callable[[Path], Iterator[LabelledConversation]]] = {
    "pj_koutli": _each("*.jsonl.gz", load_pj_streams),
    "pj_koutli_pairs": _each("*.jsonl.gz", load_pj_pairs),
    "pan12_toy": _pan12_toy,
    "pan12_vtpan": _vtpan,
    "chitchat_byu": _each("*.jsonl.gz", load_chitchat),
    "overheard_ny": _each("*.jsonl.gz", load_overheard),
    **{
        n: _generic(n)
        for n in ("conda_dota2", "disco_discord", "formspring_qa", "irc_disentanglement", "meld_friends",
                  "myspace_bayzick", "nps_chat")
    },
}  # fmt: skip


def load_corpus(data_dir: str | Path, sources: Iterable[str] | None = None) -> Iterator[LabelledConversation]:
    """Every record of the named sources (default: every default conversation source) under ``data_dir``.

    Missing folders are skipped with a log record, so the same call works on a partial copy or on the
    held-out directory; folders this module does not know are ignored. An unknown source name is an error.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise InputError("not a directory", where=str(root))
    explicit = sources is not None
    names = list(sources) if sources is not None else [n for n, s in SOURCES.items() if s.default]
    for name in names:
        info = SOURCES.get(name)
        if info is None or info.kind != "conversations":
            known = ", ".join(n for n, s in SOURCES.items() if s.kind == "conversations")
            raise InputError(f"unknown conversation source {name!r}; known: {known}")
    for name in names:
        folder = root / SOURCES[name].folder
        if not folder.is_dir():
            logger.log(logging.WARNING if explicit else logging.INFO, "source %s: no folder, skipped", name)
            continue
        count = 0
        for record in _LOADERS[name](folder):
            count += 1
            yield record
        logger.info("source %s: %d records", name, count)
