"""Reader for the ``scan`` contract's JSONL input (design.md §3): one conversation a line.

::

    {"id": str, "messages": [{"author": str, "text": str, "time": str | null}, ...]}

Extra keys, at the top level (``label``, ``meta``) or per message, are ignored, so the corpora under
``shared/data`` that use the same shape can be read with this function too.

Bad input is a caller's mistake, not a crash: every problem raises :class:`~safeguarding.errors.InputError`
whose ``where`` is ``name:line`` and whose ``reason`` names the field (``messages[3].text must be a
string``). Messages' text never appears in an error or a log record: the input may be a child's chat.

Lines are split on ``\\n`` only and decoded one at a time, so a stray byte that is not UTF-8 is reported
with its line number instead of failing somewhere inside a decoder, and a 1 MB message costs one line.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

from safeguarding.errors import InputError
from safeguarding.types import Conversation, Message

__all__ = ["read_jsonl"]

logger = logging.getLogger(__name__)

_BOM = "\ufeff"
_BOM_BYTES = b"\xef\xbb\xbf"

Source = str | os.PathLike[str] | IO[str] | IO[bytes]
"""A path, or an open text or binary stream (for example ``gzip.open(path)`` or ``sys.stdin``)."""


def read_jsonl(source: Source, *, name: str | None = None) -> Iterator[Conversation]:
    """Yield the conversations of a JSONL file or stream, in input order, validating as it goes.

    ``name`` is what errors call the input (default: the path, or the stream's ``name``). Blank lines are
    skipped; a UTF-8 byte-order mark on the first line is ignored. A conversation id seen twice is an
    error, because ``scan`` output is keyed by id and two verdicts for one id would be ambiguous.

    The generator raises at the first bad line; callers that must not write half an output (``scan``)
    validate the whole input first or write to a temporary file.
    """
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        label = name if name is not None else path
        try:
            with open(path, "rb") as fh:
                yield from _read_lines(fh, label)
        except OSError as e:
            raise InputError(f"cannot read file: {e.strerror or e}", where=label) from None
        return
    label = name if name is not None else str(getattr(source, "name", "<input>"))
    yield from _read_lines(source, label)


def _read_lines(lines: Iterable[str] | Iterable[bytes], name: str) -> Iterator[Conversation]:
    seen: dict[str, int] = {}
    lineno = 0
    it = iter(lines)
    while True:
        lineno += 1
        try:
            raw = next(it)
        except StopIteration:
            break
        except UnicodeDecodeError as e:
            # A text stream decodes a chunk ahead of us, so the bad byte is on this line or a later one;
            # pass a path or a binary stream for an exact line number.
            raise InputError(
                f"invalid UTF-8 (byte 0x{e.object[e.start]:02x}) at or after this line",
                where=f"{name}:{lineno}",
            ) from None
        except (OSError, EOFError) as e:
            raise InputError(f"cannot read input: {e}", where=f"{name}:{lineno}") from None
        if isinstance(raw, bytes):
            if lineno == 1 and raw.startswith(_BOM_BYTES):
                raw = raw[len(_BOM_BYTES) :]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(
                    f"invalid UTF-8 at byte {e.start} of the line (0x{raw[e.start]:02x})",
                    where=f"{name}:{lineno}",
                ) from None
        else:
            line = str(raw)
            if lineno == 1 and line.startswith(_BOM):
                line = line[1:]
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        conv = parse_conversation(line, where=where)
        first = seen.get(conv.id)
        if first is not None:
            raise InputError(f"duplicate conversation id {conv.id!r} (first on line {first})", where=where)
        seen[conv.id] = lineno
        yield conv
    logger.debug("read %d conversations from %s", len(seen), name)


def parse_conversation(line: str, *, where: str | None = None, source: str = "") -> Conversation:
    """Parse and validate one JSONL line into a :class:`Conversation`.

    ``strict=False`` lets raw control characters through inside strings: they are odd but harmless, and
    the contract promises that such messages are scored rather than rejected.
    """
    try:
        obj = json.loads(line, strict=False)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} at column {e.colno}", where=where) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", where=where) from None
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {_kind(obj)}", where=where)
    return conversation_from_obj(obj, where=where, source=source)


def conversation_from_obj(obj: dict[str, Any], *, where: str | None = None, source: str = "") -> Conversation:
    """Validate an already-decoded object of the contract's shape (shared with the corpus loaders)."""
    if "id" not in obj:
        raise InputError("missing 'id'", where=where)
    cid = obj["id"]
    if not isinstance(cid, str):
        raise InputError(f"'id' must be a string, got {_kind(cid)}", where=where)
    if not cid:
        raise InputError("'id' must not be empty", where=where)
    if "messages" not in obj:
        raise InputError("missing 'messages'", where=where)
    raw_messages = obj["messages"]
    if not isinstance(raw_messages, list):
        raise InputError(f"'messages' must be an array, got {_kind(raw_messages)}", where=where)
    messages: list[Message] = []
    for i, m in enumerate(raw_messages):
        if not isinstance(m, dict):
            raise InputError(f"messages[{i}] must be an object, got {_kind(m)}", where=where)
        if "author" not in m:
            raise InputError(f"messages[{i}].author is missing", where=where)
        author = m["author"]
        if not isinstance(author, str):
            raise InputError(f"messages[{i}].author must be a string, got {_kind(author)}", where=where)
        if "text" not in m:
            raise InputError(f"messages[{i}].text is missing", where=where)
        text = m["text"]
        if not isinstance(text, str):
            raise InputError(f"messages[{i}].text must be a string, got {_kind(text)}", where=where)
        time = m.get("time")
        if time is not None and not isinstance(time, str):
            raise InputError(f"messages[{i}].time must be a string or null, got {_kind(time)}", where=where)
        messages.append(Message(author=author, text=text, time=time))
    return Conversation(id=cid, messages=tuple(messages), source=source)


def _kind(value: object) -> str:
    """JSON's name for a value's type, for error messages (never the value itself: it may be text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
