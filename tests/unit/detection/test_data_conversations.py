"""The scan contract's JSONL reader: happy paths, and bad input that names the line and the problem."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from safeguarding.detection.data import read_jsonl
from safeguarding.errors import InputError
from safeguarding.types import Conversation, Message

SECRET = "do-not-echo-this-text"


def _line(cid: str = "c1", messages: object = None, **extra: object) -> str:
    if messages is None:
        messages = [{"author": "a", "text": "hi", "time": "12:00"}]
    return json.dumps({"id": cid, "messages": messages, **extra})


def _write(tmp_path: Path, content: str | bytes, name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_reads_conversations_in_order_ignoring_extra_keys_and_blank_lines(tmp_path: Path) -> None:
    lines = [
        _line("c1", label=1, meta={"x": 1}),
        "",
        "   ",
        _line(
            "c2", [{"author": "b", "text": "yo", "extra": True}, {"author": "a", "text": "", "time": None}]
        ),
        _line("c3", []),
    ]
    convs = list(read_jsonl(_write(tmp_path, "\n".join(lines) + "\n")))
    assert [c.id for c in convs] == ["c1", "c2", "c3"]
    assert convs[0].messages == (Message("a", "hi", "12:00"),)
    assert convs[1].messages == (Message("b", "yo", None), Message("a", "", None))
    assert convs[1].authors == ("b", "a")
    assert convs[2].messages == ()
    assert all(isinstance(c, Conversation) for c in convs)


def test_text_and_binary_streams_and_names() -> None:
    text = _line("c1") + "\n" + _line("c2") + "\n"
    assert [c.id for c in read_jsonl(io.StringIO(text))] == ["c1", "c2"]
    assert [c.id for c in read_jsonl(io.BytesIO(text.encode()))] == ["c1", "c2"]
    with pytest.raises(InputError) as exc:
        list(read_jsonl(io.StringIO("{bad\n"), name="stdin"))
    assert exc.value.where == "stdin:1"


def test_utf8_bom_crlf_and_missing_trailing_newline(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + _line("c1").encode() + b"\r\n" + _line("c2").encode()
    assert [c.id for c in read_jsonl(_write(tmp_path, content))] == ["c1", "c2"]
    assert [c.id for c in read_jsonl(io.StringIO("\ufeff" + _line("c1")))] == ["c1"]


def test_hard_but_valid_messages(tmp_path: Path) -> None:
    huge = "x" * 1_000_000
    odd = "tab\there \x01\x7f bell\x07 \u2028 emoji 😀👍🏽 日本語 مرحبا \u0000"
    lines = [
        _line("big", [{"author": "a", "text": huge}]),
        _line("odd", [{"author": "ü 👤", "text": odd}]),
        # A raw (unescaped) control character inside a JSON string is tolerated.
        '{"id": "raw", "messages": [{"author": "a", "text": "a\x01b"}]}',
    ]
    convs = list(read_jsonl(_write(tmp_path, "\n".join(lines))))
    assert convs[0].messages[0].text == huge
    assert convs[1].messages[0].text == odd
    assert convs[1].messages[0].author == "ü 👤"
    assert convs[2].messages[0].text == "a\x01b"


def test_a_lone_carriage_return_inside_a_string_does_not_split_the_line(tmp_path: Path) -> None:
    raw = b'{"id": "c", "messages": [{"author": "a", "text": "x\ry"}]}\n'
    (conv,) = read_jsonl(_write(tmp_path, raw))
    assert conv.messages[0].text == "x\ry"


_OK = {"author": "a", "text": "t"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ('{"id": "c", "messages": []', "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got array"),
        ('"just a string"', "expected a JSON object, got string"),
        ('{"messages": []}', "missing 'id'"),
        ('{"id": 5, "messages": []}', "'id' must be a string, got number"),
        ('{"id": "", "messages": []}', "'id' must not be empty"),
        ('{"id": "c"}', "missing 'messages'"),
        ('{"id": "c", "messages": {}}', "'messages' must be an array, got object"),
        (_line("c", ["hi"]), "messages[0] must be an object, got string"),
        (_line("c", [{"text": "t"}]), "messages[0].author is missing"),
        (_line("c", [{"author": None, "text": "t"}]), "messages[0].author must be a string, got null"),
        (_line("c", [_OK, {"author": "a"}]), "messages[1].text is missing"),
        (
            _line("c", [_OK, _OK, _OK, {"author": "a", "text": 3}]),
            "messages[3].text must be a string, got number",
        ),
        (_line("c", [{"author": "a", "text": ["x"]}]), "messages[0].text must be a string, got array"),
        (_line("c", [{"author": "a", "text": "t", "time": 12}]), "messages[0].time must be a string or null"),
        (_line("c", [{"author": "a", "text": "t", "time": False}]), "got boolean"),
    ],
)
def test_bad_lines_name_the_line_and_the_problem(tmp_path: Path, line: str, reason: str) -> None:
    path = _write(tmp_path, _line("first") + "\n\n" + line + "\n" + _line("after") + "\n", "bad.jsonl")
    with pytest.raises(InputError) as exc:
        list(read_jsonl(path))
    assert exc.value.where == f"{path}:3"
    assert reason in exc.value.reason
    assert str(exc.value).startswith(f"{path}:3: ")


def test_errors_never_quote_message_text(tmp_path: Path) -> None:
    bad = [
        '{"id": "c", "messages": [{"author": "a", "text": "' + SECRET + '"}',
        _line("c", [{"author": "a", "text": [SECRET]}]),
        _line("c", [{"author": "a", "text": "t", "time": {"x": SECRET}}]),
        json.dumps([SECRET]),
    ]
    for i, line in enumerate(bad):
        with pytest.raises(InputError) as exc:
            list(read_jsonl(_write(tmp_path, line, f"s{i}.jsonl")))
        assert SECRET not in str(exc.value)


def test_duplicate_conversation_id(tmp_path: Path) -> None:
    path = _write(tmp_path, "\n".join([_line("a"), _line("b"), _line("a")]))
    with pytest.raises(InputError, match=r"duplicate conversation id 'a' \(first on line 1\)") as exc:
        list(read_jsonl(path))
    assert exc.value.where == f"{path}:3"


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _line("a").encode() + b"\n" + b'{"id": "b\xff", "messages": []}\n')
    got = read_jsonl(path)
    assert next(got).id == "a"
    with pytest.raises(InputError, match="invalid UTF-8") as exc:
        next(got)
    assert exc.value.where == f"{path}:2"


def test_invalid_utf8_in_a_text_stream_is_an_input_error() -> None:
    stream = io.TextIOWrapper(io.BytesIO(b"\xff\xfe garbage\n"), encoding="utf-8")
    with pytest.raises(InputError, match="invalid UTF-8"):
        list(read_jsonl(stream))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_deep_nesting_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    line = '{"id": "c", "messages": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InputError, match="invalid JSON"):
        list(read_jsonl(_write(tmp_path, line)))
