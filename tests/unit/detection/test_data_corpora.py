"""Corpus loaders on small synthetic files in each source's own format (never the real data)."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from safeguarding.detection.data import (
    SOURCES,
    UNKNOWN_AUTHOR,
    LabelledConversation,
    interleave_streams,
    load_chitchat,
    load_corpus,
    load_generic,
    load_overheard,
    load_pan12_labelled,
    load_pj_pairs,
    load_pj_streams,
    load_stage_items,
    load_vtpan_segments,
    parse_segment,
    pseudonymise_overheard,
    window_records,
    windows,
)
from safeguarding.errors import InputError
from safeguarding.types import Conversation, Message

H1, H2, H3 = "1" * 32, "2" * 32, "3" * 32
SECRET = "secret-text-never-logged"


def _gz(path: Path, objs: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for o in objs:
            fh.write(json.dumps(o) + "\n")
    return path


def _pj(author: str, group: str, role: str, n: int) -> dict[str, object]:
    utts = [f"{author} says {i}" for i in range(n)]
    return {
        "author_id": author,
        "group_id": group,
        "role": role,
        "label": int(role == "predator"),
        "n_utterances": n,
        "utterances": utts,
        "source_blob": "0" * 40,
    }


PJ = [
    _pj("g1_decoy", "g1", "decoy", 6),
    _pj("g2_predator", "g2", "predator", 2),
    _pj("g1_predator", "g1", "predator", 3),
    _pj("g2_decoy_2", "g2", "decoy", 2),
    _pj("g2_decoy", "g2", "decoy", 1),
]


def test_pj_streams_are_single_author_records_grouped_by_predator(tmp_path: Path) -> None:
    recs = list(load_pj_streams(_gz(tmp_path / "pj.jsonl.gz", PJ)))
    assert [r.conversation.id for r in recs] == [o["author_id"] for o in PJ]
    by_id = {r.conversation.id: r for r in recs}
    pred, decoy = by_id["g1_predator"], by_id["g1_decoy"]
    assert (pred.label, pred.positive_authors, pred.group, pred.source) == (
        1,
        frozenset({"g1_predator"}),
        "g1",
        "pj_koutli",
    )
    assert (decoy.label, decoy.positive_authors, decoy.group) == (0, frozenset(), "g1")
    assert pred.conversation.authors == ("g1_predator",)
    assert [m.text for m in pred.conversation.messages] == [f"g1_predator says {i}" for i in range(3)]
    assert all(m.time is None for m in pred.conversation.messages)


def test_pj_pairs_interleave_by_relative_position(tmp_path: Path) -> None:
    path = _gz(tmp_path / "pj.jsonl.gz", PJ)
    pairs = list(load_pj_pairs(path))
    assert [p.group for p in pairs] == ["g1", "g2"]
    g1 = pairs[0]
    assert (g1.label, g1.positive_authors, g1.source) == (1, frozenset({"g1_predator"}), "pj_koutli_pairs")
    # predator at 1/6, 3/6, 5/6; decoy at 1/12, 3/12, ... 11/12
    who = [m.author.split("_")[1] for m in g1.conversation.messages]
    assert who == ["decoy", "predator", "decoy", "decoy", "predator", "decoy", "decoy", "predator", "decoy"]
    for author in ("g1_predator", "g1_decoy"):  # each side keeps its own order
        texts = [m.text for m in g1.conversation.messages if m.author == author]
        assert texts == [f"{author} says {i}" for i in range(len(texts))]
    g2 = pairs[1]
    assert len(g2.conversation.messages) == 5 and set(g2.conversation.authors) == {
        "g2_predator",
        "g2_decoy",
        "g2_decoy_2",
    }
    assert list(load_pj_pairs(path)) == pairs  # deterministic


def test_interleave_ties_go_to_the_earlier_stream() -> None:
    a = tuple(Message("a", str(i)) for i in range(3))
    b = tuple(Message("b", str(i)) for i in range(3))
    assert [m.author for m in interleave_streams([a, b])] == ["a", "b"] * 3
    assert interleave_streams([a, ()]) == a


def test_pj_bad_record_names_the_line(tmp_path: Path) -> None:
    bad = dict(PJ[0], role="officer")
    path = _gz(tmp_path / "pj.jsonl.gz", [PJ[0], bad])
    with pytest.raises(InputError) as exc:
        list(load_pj_streams(path))
    assert exc.value.where == f"{path}:2"


def _conv(cid: str, *turns: tuple[str, str]) -> dict[str, object]:
    return {
        "id": cid,
        "source": "x",
        "meta": {"n": 1},
        "messages": [{"author": a, "text": t, "time": None, "act": "Statement"} for a, t in turns],
    }


def test_generic_negatives(tmp_path: Path) -> None:
    path = _gz(tmp_path / "n.jsonl.gz", [_conv("c1", ("u1", "hi"), ("u2", "yo")), _conv("c2", ("u1", "x"))])
    recs = list(load_generic(path, "nps_chat"))
    assert [(r.group, r.label, r.source, r.conversation.source) for r in recs] == [
        ("c1", 0, "nps_chat", "nps_chat"),
        ("c2", 0, "nps_chat", "nps_chat"),
    ]
    assert recs[0].conversation.messages == (Message("u1", "hi"), Message("u2", "yo"))


def test_overheard_authors_are_pseudonymised_and_narration_dropped(tmp_path: Path) -> None:
    conv = Conversation(
        "o1",
        (
            Message("Teen girl", "a"),
            Message("[narration]", "b"),
            Message("Guy #1", "c"),
            Message("Teen girl", "d"),
        ),
    )
    out = pseudonymise_overheard(conv)
    assert out.messages == (Message("s1", "a"), Message("s2", "c"), Message("s1", "d"))
    path = _gz(
        tmp_path / "o.jsonl.gz", [_conv("o1", ("Little boy", "x"), ("Mom", "y")), _conv("o2", ("Mom", "z"))]
    )
    recs = list(load_overheard(path))
    assert [r.conversation.authors for r in recs] == [("s1", "s2"), ("s1",)]
    assert recs[0].source == "overheard_ny"


@pytest.mark.parametrize(
    ("n", "size", "step", "starts"),
    [(10, 4, 3, [0, 3, 6]), (11, 4, 3, [0, 3, 6, 7]), (4, 4, 2, None), (2, 5, 1, None), (6, 2, 2, [0, 2, 4])],
)
def test_windows_cover_every_message(n: int, size: int, step: int, starts: list[int] | None) -> None:
    conv = Conversation("room", tuple(Message(f"u{i % 3}", str(i)) for i in range(n)))
    got = list(windows(conv, size, step))
    if starts is None:
        assert got == [conv]
        return
    assert [w.id for w in got] == [f"room@{s}" for s in starts]
    assert all(len(w.messages) == size for w in got)
    assert {m.text for w in got for m in w.messages} == {str(i) for i in range(n)}
    with pytest.raises(ValueError):
        list(windows(conv, 0, 1))


def test_window_records_keep_the_group_and_relabel_by_author() -> None:
    msgs = (Message("p", "0"), Message("v", "1"), Message("v", "2"), Message("v", "3"))
    rec = LabelledConversation(Conversation("c", msgs), "s", "G", frozenset({"p"}), 1)
    got = list(window_records(rec, 2, 2))
    assert [(w.group, w.label, w.positive_authors) for w in got] == [("G", 1, {"p"}), ("G", 0, frozenset())]
    conv_level = LabelledConversation(Conversation("c", msgs), "s", "G", frozenset(), 1)
    assert [w.label for w in window_records(conv_level, 2, 2)] == [1, 1]


def test_chitchat(tmp_path: Path) -> None:
    obj: dict[str, object] = {
        "conversation_id": "cc1",
        "prompt": None,
        "ratings": None,
        "start": "2018",
        "label": 0,
        "messages": [
            {"turn": 0, "sender": "u1", "timestamp": "2018-01-01T00:00", "text": "hey"},
            {"turn": 1, "sender": "u2", "timestamp": None, "text": ""},
        ],
    }
    (rec,) = load_chitchat(_gz(tmp_path / "c.jsonl.gz", [obj]))
    assert (rec.group, rec.label, rec.source) == ("cc1", 0, "chitchat_byu")
    assert rec.conversation.messages == (Message("u1", "hey", "2018-01-01T00:00"), Message("u2", "", None))


def test_stage_items(tmp_path: Path) -> None:
    path = tmp_path / "stages.jsonl"
    rows = [
        {
            "item": "x-1",
            "label": "trust_building",
            "label_de": "V",
            "conversation_id": "abc ",
            "turn": None,
            "text": "t1",
        },
        {"item": "x-2", "label": "neutral", "conversation_id": "def", "text": "t2"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    items = load_stage_items(path)
    assert [(i.text, i.label, i.group) for i in items] == [
        ("t1", "trust_building", "abc"),
        ("t2", "neutral", "def"),
    ]


def test_parse_segment_markers() -> None:
    seg = f"hello there {H1}: hi you {H2}: hey {H1}:   {H2}: bye x{H3}: not a marker {H3}:no {'A' * 32}: no"
    msgs = parse_segment(seg)
    assert [m.author for m in msgs] == [UNKNOWN_AUTHOR, H1, H2, H1, H2]
    assert msgs[0].text == "hello there"
    assert msgs[1].text == "hi you" and msgs[3].text == ""
    assert msgs[4].text.startswith("bye x")
    assert parse_segment(f"{H1}: a") == (Message(H1, "a"),)
    assert parse_segment("no markers at all") == (Message(UNKNOWN_AUTHOR, "no markers at all"),)
    assert parse_segment("") == ()


def _csv(path: Path, rows: list[tuple[str, int]]) -> Path:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["segment", "label"])
        w.writerows(rows)
    return path


def test_vtpan_segments(tmp_path: Path) -> None:
    shared = "one two three four five six seven eight"
    rows = [
        (f"{H1}: hello {H2}: hi there", 0),
        (f"later {H2}: again", 0),  # mentions H2 -> same chat as row 0
        (f"a b {shared} c", 1),
        (f"{shared} d e", 1),  # shares an 8-token shingle with row 2
        ("something else, with, a comma", 1),
        (f"{H3}: predator talking", 1),
    ]
    path = _csv(tmp_path / "seg.csv", rows)
    recs = list(load_vtpan_segments(path, {H3}))
    assert [r.label for r in recs] == [0, 0, 1, 1, 1, 1]
    assert all(
        r.conversation.messages == (Message(UNKNOWN_AUTHOR, s),) for r, (s, _) in zip(recs, rows, strict=True)
    )
    assert all(r.positive_authors == frozenset() and r.source == "pan12_vtpan" for r in recs)
    groups = [r.group for r in recs]
    assert groups[0] == groups[1] and groups[2] == groups[3]
    assert len({groups[0], groups[2], groups[4], groups[5]}) == 4
    split = list(load_vtpan_segments(path, {H3}, split_turns=True))
    assert [m.author for m in split[0].conversation.messages] == [H1, H2]
    assert split[5].positive_authors == {H3}
    assert [r.group for r in split] == groups
    assert len({r.conversation.id for r in recs}) == len(rows)


def test_vtpan_bad_csv(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,y\nabc,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="header"):
        list(load_vtpan_segments(path))
    path.write_text("segment,label\nabc,1\nxyz,maybe\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        list(load_vtpan_segments(path))
    assert exc.value.where == f"{path}:3"


def _pan12(path: Path, convs: list[tuple[str, list[str]]]) -> Path:
    body = "".join(
        f'<conversation id="{cid}">'
        + "".join(f"<message><author>{a}</author><time>01:00</time><text>t</text></message>" for a in authors)
        + "</conversation>\n"
        for cid, authors in convs
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<conversations>\n{body}</conversations>\n", encoding="utf-8")
    return path


def test_pan12_labelled_groups_a_predators_conversations(tmp_path: Path) -> None:
    path = _pan12(
        tmp_path / "t.xml",
        [
            ("c1", ["p", "v1"]),
            ("c2", ["x", "y"]),
            ("c3", ["v2", "p"]),
            ("c1", ["p", "v1"]),
            ("c4", ["q", "p", "v3"]),
            ("c5", ["q", "v4"]),
            ("c6", ["y", "x", "x"]),
        ],
    )
    recs = {r.conversation.id: r for r in load_pan12_labelled([path], {"p", "q"})}
    assert sorted(recs) == ["c1", "c2", "c3", "c4", "c5", "c6"]  # the repeated c1 is skipped
    assert recs["c1"].positive_authors == {"p"} and recs["c1"].label == 1
    assert recs["c4"].positive_authors == {"p", "q"}
    assert recs["c2"].label == 0 and recs["c2"].positive_authors == frozenset()
    # p and q share c4, so all of their conversations share one group
    assert len({recs[c].group for c in ("c1", "c3", "c4", "c5")}) == 1
    assert recs["c2"].group == recs["c6"].group != recs["c1"].group
    assert all(r.source == "pan12_toy" and r.conversation.source == "pan12_toy" for r in recs.values())


def _data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    _gz(root / "pj_koutli" / "pj_koutli_train.jsonl.gz", PJ)
    _gz(root / "nps_chat" / "nps_chat_train.jsonl.gz", [_conv("room1", ("u1", SECRET), ("u2", "b"))])
    _gz(
        root / "overheard_ny" / "overheard_ny_train.jsonl.gz", [_conv("o1", ("Teen girl", "a"), ("Mom", "b"))]
    )
    _gz(root / "something_new" / "x.jsonl.gz", [_conv("zzz", ("u", "t"))])
    (root / "pan12" / "toy_train").mkdir(parents=True)
    _pan12(root / "pan12" / "toy_train" / "toy.xml", [("t1", ["p", "v"]), ("t2", ["a", "b"])])
    (root / "pan12" / "official-predators-2012.txt").write_text("p\n", encoding="utf-8")
    (root / "pan12" / "toy_train" / "toy-predators.txt").write_text("zz", encoding="utf-8")
    (root / "pan12_vtpan_segments_constien").mkdir()
    _csv(root / "pan12_vtpan_segments_constien" / "val.csv", [("seg one", 1), (f"{H1}: seg two", 0)])
    return root


def test_load_corpus_discovers_known_folders(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = _data_dir(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="safeguarding"):
        recs = list(load_corpus(root))
    by_source: dict[str, list[LabelledConversation]] = {}
    for r in recs:
        by_source.setdefault(r.source, []).append(r)
    assert {s: len(v) for s, v in by_source.items()} == {
        "pj_koutli": 5,
        "pan12_toy": 2,
        "pan12_vtpan": 2,
        "nps_chat": 1,
        "overheard_ny": 1,
    }
    assert by_source["overheard_ny"][0].conversation.authors == ("s1", "s2")
    toy = {r.conversation.id: r for r in by_source["pan12_toy"]}
    assert toy["t1"].positive_authors == {"p"} and toy["t2"].label == 0
    assert "zzz" not in {r.conversation.id for r in recs}
    assert SECRET not in caplog.text
    assert "chitchat_byu" in caplog.text  # missing folders are logged

    pairs = list(load_corpus(root, ["pj_koutli_pairs"]))
    assert [r.group for r in pairs] == ["g1", "g2"]


def test_load_corpus_rejects_unknown_sources_and_warns_on_missing_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = _data_dir(tmp_path)
    with pytest.raises(InputError, match="unknown conversation source 'nope'"):
        list(load_corpus(root, ["nope"]))
    with pytest.raises(InputError):
        list(load_corpus(root, ["grooming_stages_pan12_ugurluer"]))
    with pytest.raises(InputError, match="not a directory"):
        list(load_corpus(tmp_path / "missing"))
    with caplog.at_level(logging.WARNING, logger="safeguarding"):
        assert list(load_corpus(root, ["meld_friends"])) == []
    assert "meld_friends" in caplog.text


def test_sources_carry_licence_notes() -> None:
    assert all(s.licence for s in SOURCES.values())
    assert SOURCES["nps_chat"].commercial_use is False
    assert "non-commercial" in SOURCES["nps_chat"].licence
    assert SOURCES["irc_disentanglement"].commercial_use is True
    assert {n for n, s in SOURCES.items() if s.kind == "stage_items"} == {"grooming_stages_pan12_ugurluer"}
