"""The official PAN12 XML reader and predator list: format details, bad input, streaming memory."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest

from safeguarding.detection.data import EMAIL_TOKEN, read_pan12, read_predator_ids
from safeguarding.errors import InputError
from safeguarding.types import Message

A = "a" * 32
B = "b" * 32

TOY = f"""<?xml version="1.0" encoding="UTF-8"?>
<conversations>
  <conversation id="c1">
    <message line="1">
      <author> {A} </author>
      <time>02:56</time>
      <text>hi &amp; hello &lt;3 😀</text>
    </message>
    <message line="2">
      <author>{B}</author>
      <time>02:57</time>
      <text>mail me at <email/> or <email/>!</text>
    </message>
    <message line="3">
      <author>{A}</author>
      <time></time>
      <text/>
    </message>
    <message line="4">
      <author>{B}</author>
    </message>
  </conversation>
  <conversation id="c2">
  </conversation>
</conversations>
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "corpus.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_reads_the_official_format(tmp_path: Path) -> None:
    c1, c2 = read_pan12(_write(tmp_path, TOY))
    assert c1.id == "c1"
    assert c1.messages == (
        Message(A, "hi & hello <3 😀", "02:56"),
        Message(B, f"mail me at {EMAIL_TOKEN} or {EMAIL_TOKEN}!", "02:57"),
        Message(A, "", None),
        Message(B, "", None),
    )
    assert c1.authors == (A, B)
    assert c2.id == "c2" and c2.messages == ()


def test_reads_a_binary_stream_and_a_bom() -> None:
    (c1, _) = read_pan12(io.BytesIO(b"\xef\xbb\xbf" + TOY.encode()))
    assert len(c1.messages) == 4


@pytest.mark.parametrize(
    ("xml", "line", "reason"),
    [
        (
            "<conversations>\n<conversation id='x'>\n<message>\n</conversation>\n</conversations>\n",
            4,
            "mismatched",
        ),
        ("<conversations>\n<conversation id='x'>\n", 3, "no element found"),
        ("<conversations>\n\n<conversation id='x'><message><text>a & b</text>", 3, "not well-formed"),
        (b"<conversations>\n<conversation id='x'>\n<text>\xff</text>", 3, "not well-formed"),
        ('{"id": "c", "messages": []}\n', 1, "not well-formed"),
        ("", 1, "no element found"),
    ],
)
def test_malformed_xml_names_the_parser_line(
    tmp_path: Path, xml: str | bytes, line: int, reason: str
) -> None:
    path = _write(tmp_path, xml)
    with pytest.raises(InputError) as exc:
        list(read_pan12(path))
    assert exc.value.where == f"{path}:{line}"
    assert exc.value.reason.startswith("malformed XML: ")
    assert reason in exc.value.reason


def test_errors_never_quote_message_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "<conversations><conversation id='x'><message><text>secret-words & more")
    with pytest.raises(InputError) as exc:
        list(read_pan12(path))
    assert "secret" not in str(exc.value)


def test_wrong_shape_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="root element is <chats>"):
        list(read_pan12(_write(tmp_path, "<chats/>")))
    with pytest.raises(InputError, match="without an id attribute"):
        list(read_pan12(_write(tmp_path, "<conversations><conversation/></conversations>")))


def test_message_without_author_is_located_at_its_conversation(tmp_path: Path) -> None:
    xml = (
        "<conversations>\n"
        '  <conversation id="ok"><message><author>a</author></message></conversation>\n'
        '  <conversation id="bad">\n'
        '    <message line="7"><text>x</text></message>\n'
        "  </conversation>\n"
        "</conversations>\n"
    )
    path = _write(tmp_path, xml)
    got = read_pan12(path)
    assert next(got).id == "ok"
    with pytest.raises(InputError) as exc:
        next(got)
    assert exc.value.where == f"{path}:3"
    assert "conversation 'bad', message line=7: missing <author>" in exc.value.reason


def test_duplicate_conversation_ids(tmp_path: Path) -> None:
    conv = '<conversation id="{}"><message><author>a</author><text>t</text></message></conversation>'
    path = _write(tmp_path, "<conversations>" + "".join(conv.format(c) for c in "xyx") + "</conversations>")
    assert [c.id for c in read_pan12(path)] == ["x", "y", "x"]
    assert [c.id for c in read_pan12(path, on_duplicate="skip")] == ["x", "y"]
    with pytest.raises(InputError, match="duplicate conversation id 'x'"):
        list(read_pan12(path, on_duplicate="error"))


def test_external_entities_are_not_fetched(tmp_path: Path) -> None:
    secret = _write(tmp_path, "top secret", "secret.txt")
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        "<conversations><conversation id='c'><message><author>a</author><text>&x;</text></message>"
        "</conversation></conversations>"
    )
    try:
        convs = list(read_pan12(_write(tmp_path, xml)))
    except InputError:
        return  # refusing the entity is fine too
    assert "top secret" not in convs[0].messages[0].text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        list(read_pan12(tmp_path / "missing.xml"))


def _synthetic(path: Path, n_conversations: int, n_messages: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<conversations>\n")
        for c in range(n_conversations):
            fh.write(f'<conversation id="conv{c}">\n')
            for m in range(n_messages):
                fh.write(
                    f'<message line="{m + 1}"><author>author{(c + m) % 7}</author>'
                    f"<time>10:{m % 60:02d}</time>"
                    f"<text>message {m} of conversation {c} with some filler words in it</text></message>\n"
                )
            fh.write("</conversation>\n")
        fh.write("</conversations>\n")


def test_streams_a_generated_corpus_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    _synthetic(path, 4000, 10)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        n_conv = n_msg = 0
        for conv in read_pan12(path):
            assert conv.id == f"conv{n_conv}"
            n_conv += 1
            n_msg += len(conv.messages)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (n_conv, n_msg) == (4000, 40_000)
    # A whole parsed tree would take several times the file size; streaming stays far below it.
    assert peak < size / 4, (peak, size)


def test_read_predator_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, f"\ufeff{A}\n\n  {B}  \r\n{A}", "predators.txt")
    assert read_predator_ids(path) == frozenset({A, B})
    assert read_predator_ids(_write(tmp_path, "", "empty.txt")) == frozenset()


def test_read_predator_ids_rejects_two_ids_on_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{A}\n{A} {B}\n", "predators.txt")
    with pytest.raises(InputError) as exc:
        read_predator_ids(path)
    assert exc.value.where == f"{path}:2"
