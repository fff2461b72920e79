"""Synthetic data: generator determinism and ground truth, the platform scenario, the bundled files."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from safeguarding.synth import (
    BENIGN_KINDS,
    EXAMPLE_KINDS,
    GROOMING_KINDS,
    GROOMING_ORDER,
    INTERACTION_TYPES,
    KINDS,
    SyntheticConversation,
    build_scenario,
    example_conversations,
    generate,
    main,
    make_dataset,
)
from safeguarding.synth.phrases import BANKS, expand
from safeguarding.types import AgeBand, Stage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src" / "safeguarding" / "examples" / "example.jsonl"
LOOKALIKES = ROOT / "benchmarks" / "data" / "lookalikes_dev.jsonl"
LOOKALIKES_README = ROOT / "benchmarks" / "data" / "README.md"
START = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MINOR_BANDS = {AgeBand.UNDER_13, AgeBand.AGE_13_15, AgeBand.AGE_16_17}


def _gen(kind: str, seed: int) -> SyntheticConversation:
    return generate(kind, random.Random(seed), conversation_id=f"{kind}-{seed}", start=START)


# ----------------------------------------------------------------------------------------- generator


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_conversation_and_other_seed_differs(kind: str) -> None:
    assert _gen(kind, 7) == _gen(kind, 7)
    assert _gen(kind, 7).conversation.messages != _gen(kind, 8).conversation.messages


def test_make_dataset_is_deterministic_prefix_stable_and_cycles_kinds() -> None:
    a = make_dataset(25, seed=3)
    assert a == make_dataset(25, seed=3)
    assert make_dataset(10, seed=3) == a[:10]
    assert [sc.kind for sc in a[: len(KINDS)]] == list(KINDS)
    assert len({sc.conversation.id for sc in a}) == 25
    assert make_dataset(5, seed=4) != a[:5]
    only = make_dataset(6, seed=1, kinds=("grooming", "friends"))
    assert [sc.label for sc in only] == [1, 0, 1, 0, 1, 0]


def test_unknown_kind_and_empty_kinds_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        generate("pirates", random.Random(0), conversation_id="x", start=START)
    with pytest.raises(ValueError):
        make_dataset(1, 0, kinds=())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_consistent_ground_truth(kind: str, seed: int) -> None:
    sc = _gen(kind, seed)
    msgs = sc.conversation.messages
    authors = {p.author for p in sc.participants}
    assert len(msgs) >= 6
    assert len(sc.stages_by_message) == len(sc.recipients) == len(msgs)
    assert len(authors) == len(sc.participants)
    times = [m.time or "" for m in msgs]
    assert all(ISO_Z.match(t) for t in times)
    assert times == sorted(times) and len(set(times)) == len(times)
    for m, to in zip(msgs, sc.recipients, strict=True):
        assert m.author in authors and m.text.strip()
        assert to and m.author not in to and set(to) <= authors
    for p in sc.participants:
        assert p.age_band in MINOR_BANDS | {AgeBand.ADULT}
    if kind in BENIGN_KINDS:
        assert sc.label == 0 and sc.suspect is None and sc.victim is None
        assert all(tags == () for tags in sc.stages_by_message)
    else:
        assert sc.label == 1 and sc.suspect in authors
        suspect = next(p for p in sc.participants if p.author == sc.suspect)
        assert suspect.age_band is AgeBand.ADULT
        # only the suspect's lines carry stages, and stages appear in the escalation's order
        for m, tags in zip(msgs, sc.stages_by_message, strict=True):
            assert not tags or m.author == sc.suspect
        order = [GROOMING_ORDER.index(s) for s in sc.stages]
        assert order == sorted(order) or kind == "mass_contact"


@pytest.mark.parametrize("seed", range(12))
def test_grooming_escalates_over_days_against_a_12_to_15_year_old(seed: int) -> None:
    sc = _gen("grooming", seed)
    victim = next(p for p in sc.participants if p.author == sc.victim)
    assert 12 <= victim.age <= 15
    assert victim.age_band in {AgeBand.UNDER_13, AgeBand.AGE_13_15}
    required = [s for s in GROOMING_ORDER if s is not Stage.CONTROL_COERCION]
    assert [s for s in sc.stages if s in required] == required
    days = {m.time[:10] for m in sc.conversation.messages if m.time}
    assert len(days) >= 3
    assert {p.author for p in sc.participants} == {sc.suspect, sc.victim}


@pytest.mark.parametrize("seed", range(8))
def test_mass_contact_reaches_many_minors_with_short_openers(seed: int) -> None:
    sc = _gen("mass_contact", seed)
    targets = [p for p in sc.participants if p.author != sc.suspect]
    assert sc.victim is None and len(targets) >= 8
    assert all(p.age_band in MINOR_BANDS for p in targets)
    contacted = {
        to[0] for m, to in zip(sc.conversation.messages, sc.recipients, strict=True) if m.author == sc.suspect
    }
    assert contacted == {p.author for p in targets}
    openers = [m for m, tags in zip(sc.conversation.messages, sc.stages_by_message, strict=True) if tags]
    assert len(openers) >= len(targets)
    assert all(len(m.text) < 120 for m in openers)
    assert Stage.INFORMATION_GATHERING in sc.stages or Stage.OFF_PLATFORM in sc.stages


@pytest.mark.parametrize("seed", range(8))
def test_dating_adults_state_their_adult_ages(seed: int) -> None:
    sc = _gen("dating_adults", seed)
    assert all(p.age >= 20 and p.age_band is AgeBand.ADULT for p in sc.participants)
    text = " ".join(m.text for m in sc.conversation.messages)
    assert any(str(p.age) in text for p in sc.participants)


def test_benign_look_alikes_use_risky_words() -> None:
    """The point of the benign kinds: secrets, ages, pictures and meet-ups on the benign side too."""
    text = " ".join(
        m.text.lower() for sc in make_dataset(300, 5, kinds=BENIGN_KINDS) for m in sc.conversation.messages
    )
    for phrase in ("secret", "how old", "pic", "meet", "dont tell", "number"):
        assert phrase in text.replace("don't", "dont"), phrase


def test_output_is_varied_not_a_few_fixed_scripts() -> None:
    convs = make_dataset(60, 11, kinds=("grooming",))
    lines = [m.text for sc in convs for m in sc.conversation.messages if m.author == sc.suspect]
    assert len(set(lines)) > 0.5 * len(lines)
    assert len({tuple(m.text for m in sc.conversation.messages) for sc in convs}) == 60
    assert len({len(sc.conversation.messages) for sc in convs}) > 10


def test_template_expansion_fills_slots_and_nested_choices() -> None:
    rng = random.Random(1)
    seen = {expand("[a|[b|c]] {x} {game}", rng, {"x": "X", "game": "G"}) for _ in range(200)}
    assert seen == {"a X G", "b X G", "c X G"}
    for key, templates in BANKS.items():
        for t in templates:
            assert t.count("[") == t.count("]"), (key, t)


def test_records_follow_the_scan_contract() -> None:
    sc = _gen("grooming", 1)
    rec = sc.to_record()
    assert set(rec) == {"id", "messages"}
    json.dumps(rec)
    labelled = sc.to_record(labels=True)
    assert labelled["label"] == 1 and labelled["suspect"] == sc.suspect
    assert len(labelled["stages"]) == len(sc.conversation.messages)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------- scenario


ACCOUNT_KEYS = {
    "id",
    "type",
    "account",
    "age_band",
    "assurance",
    "at",
    "created",
    "country",
    "display_name",
}
PAIR_KEYS = {"id", "type", "actor", "target", "at"}
MESSAGE_KEYS = {"id", "type", "conversation", "sender", "recipients", "text", "at"}


def test_scenario_is_deterministic_and_seeded() -> None:
    assert build_scenario(4).to_events() == build_scenario(4).to_events()
    assert build_scenario(4).to_events() != build_scenario(5).to_events()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scenario_events_are_ordered_unique_and_well_shaped(seed: int) -> None:
    scenario = build_scenario(seed)
    events = scenario.to_events()
    json.dumps(events)
    ids = [e["id"] for e in events]
    assert ids == [f"e{i}" for i in range(1, len(events) + 1)]
    ats = [str(e["at"]) for e in events]
    assert all(ISO_Z.match(a) for a in ats) and ats == sorted(ats)
    known: set[object] = set()
    for e in events:
        kind = e["type"]
        if kind == "account":
            assert set(e) >= ACCOUNT_KEYS
            assert e["age_band"] in {str(b) for b in AgeBand} and e["assurance"] in {
                "self_declared",
                "estimated",
                "verified",
            }
            assert str(e["created"]) <= str(e["at"])
            known.add(e["account"])
        elif kind == "message":
            assert set(e) == MESSAGE_KEYS
            recipients = e["recipients"]
            assert isinstance(recipients, list) and recipients and e["sender"] not in recipients
            assert e["sender"] in known and set(recipients) <= known
        else:
            assert kind in INTERACTION_TYPES
            assert set(e) >= PAIR_KEYS and e["actor"] != e["target"]
            assert e["actor"] in known and e["target"] in known
            if kind == "report":
                assert e["reason"]
            if kind == "group_invite":
                assert e["group"]
    assert {str(e["type"]) for e in events} == {"account", "message", *INTERACTION_TYPES}


def test_scenario_ground_truth_matches_the_story() -> None:
    scenario = build_scenario(0)
    bands = {a.id: a.age_band for a in scenario.accounts}
    assert bands[scenario.groomer] is AgeBand.ADULT
    assert bands[scenario.victim] in {AgeBand.UNDER_13, AgeBand.AGE_13_15}
    assert bands[scenario.mass_contact] is AgeBand.ADULT
    assert len(scenario.mass_targets) >= 8
    assert all(bands[t] in MINOR_BANDS for t in scenario.mass_targets)
    kinds = Counter(sc.kind for sc in scenario.conversations)
    assert kinds["grooming"] == 1 and kinds["mass_contact"] == len(scenario.mass_targets)
    assert set(BENIGN_KINDS) <= set(kinds)
    grooming = next(sc for sc in scenario.conversations if sc.kind == "grooming")
    assert (grooming.suspect, grooming.victim) == (scenario.groomer, scenario.victim)
    assert len({sc.conversation.id for sc in scenario.conversations}) == len(scenario.conversations)
    # the child follows the groomer (so contact rules allow it) only after accepting his request
    events = scenario.to_events()
    follow_back = next(
        e
        for e in events
        if e["type"] == "follow" and (e["actor"], e["target"]) == (scenario.victim, scenario.groomer)
    )
    accept = next(e for e in events if e["type"] == "accept" and e["actor"] == scenario.victim)
    assert str(accept["at"]) <= str(follow_back["at"])
    reactions = {str(e["type"]) for e in events if e.get("target") == scenario.mass_contact}
    assert {"block", "report", "decline"} <= reactions
    for parent, child in scenario.guardians:
        assert bands[parent] is AgeBand.ADULT and bands[child] in MINOR_BANDS
    assert scenario.account(scenario.victim).age_band is bands[scenario.victim]


def test_scenario_messages_match_its_conversations_and_can_drop_text() -> None:
    scenario = build_scenario(1, n_benign=3)
    events = scenario.to_events()
    by_conv: dict[object, list[dict[str, Any]]] = {}
    for e in events:
        if e["type"] == "message":
            by_conv.setdefault(e["conversation"], []).append(e)
    for sc in scenario.conversations:
        got = [(e["sender"], e["text"]) for e in by_conv[sc.conversation.id]]
        assert got == [(m.author, m.text) for m in sc.conversation.messages]
    silent = scenario.to_events(include_text=False)
    assert [e["id"] for e in silent] == [e["id"] for e in events]
    assert all("text" not in e for e in silent if e["type"] == "message")


def test_scenario_events_parse_with_the_engine_schema() -> None:
    parse = pytest.importorskip("safeguarding.events.parse")
    for e in build_scenario(2).to_events():
        parse.parse_event(e)


# ----------------------------------------------------------------------------------------- bundled files


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_bundled_example_is_the_generators_output_in_scan_format() -> None:
    records = _lines(EXAMPLE)
    assert 6 <= len(records) <= 8
    assert records == [sc.to_record() for sc in example_conversations()]
    for rec in records:
        assert set(rec) == {"id", "messages"}
        assert all(set(m) == {"author", "text", "time"} for m in rec["messages"])
    assert len({rec["id"] for rec in records}) == len(records)
    labels = Counter(sc.label for sc in example_conversations())
    assert labels == {0: len(EXAMPLE_KINDS) - 2, 1: 2}
    assert sum(k in GROOMING_KINDS for k in EXAMPLE_KINDS) == 2


def test_example_command_prints_the_bundled_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example"]) == 0
    assert capsys.readouterr().out == EXAMPLE.read_text(encoding="utf-8")
    assert main(["dataset", "3", "--seed", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["events", "--seed", "1", "--benign", "2", "--no-text"]) == 0
    assert '"text"' not in capsys.readouterr().out


def test_bundled_files_load_with_the_scan_reader() -> None:
    reader = pytest.importorskip("safeguarding.detection.data.conversations")
    assert len(list(reader.read_jsonl(EXAMPLE))) == len(_lines(EXAMPLE))
    assert len(list(reader.read_jsonl(LOOKALIKES))) == len(_lines(LOOKALIKES))


def test_lookalike_dev_set_has_the_promised_shape() -> None:
    records = _lines(LOOKALIKES)
    assert [r["id"] for r in records] == [f"la-{i:03d}" for i in range(1, len(records) + 1)]
    labels = Counter(r["label"] for r in records)
    assert labels[0] >= 55 and labels[1] >= 35 and set(labels) == {0, 1}
    readme = LOOKALIKES_README.read_text(encoding="utf-8")
    for (label, category), count in Counter((r["label"], r["category"]) for r in records).items():
        assert f"| {label} | `{category}` | {count} |" in readme
    for r in records:
        assert set(r) == {"id", "label", "category", "suspect", "messages"}
        authors = {m["author"] for m in r["messages"]}
        assert 8 <= len(r["messages"]) <= 30 and 2 <= len(authors) <= 3
        assert all(
            set(m) == {"author", "text", "time"} and m["time"] is None and m["text"] for m in r["messages"]
        )
        assert (r["suspect"] in authors) if r["label"] == 1 else r["suspect"] is None


def test_lookalikes_are_worded_apart_from_the_generator() -> None:
    """The dev set must not be solvable by remembering the phrase banks: few whole lines in common."""

    def norm(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9']+", text.lower()))

    generated = {norm(m.text) for sc in make_dataset(400, 9) for m in sc.conversation.messages}
    lines = [norm(m["text"]) for r in _lines(LOOKALIKES) for m in r["messages"]]
    shared = [t for t in lines if len(t.split()) >= 4 and t in generated]
    assert len(shared) <= 5, shared
