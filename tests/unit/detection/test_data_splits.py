"""Splits by group: deterministic, never straddling, about the requested fraction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguarding.detection.data import LabelledConversation, StageItem, split_of, split_records
from safeguarding.types import Conversation, Message


def _rec(group: str, i: int) -> LabelledConversation:
    conv = Conversation(f"{group}/{i}", (Message("a", "t"),))
    return LabelledConversation(conv, "synthetic", group, frozenset(), 0)


def test_split_of_is_deterministic_and_known() -> None:
    groups = [f"g{i}" for i in range(200)]
    first = [split_of(g) for g in groups]
    assert first == [split_of(g) for g in groups]
    assert set(first) == {"train", "dev"}
    # Pinned values: a change here silently reshuffles every split, so it must be deliberate.
    pinned = ["train", "train", "dev", "train", "train", "train", "train", "train", "dev", "train"]
    assert [split_of(f"g{i}") for i in range(10)] == pinned


def test_fraction_is_roughly_right() -> None:
    groups = [f"group-{i}" for i in range(20_000)]
    for percent in (10, 20, 50):
        dev = sum(split_of(g, dev_percent=percent) == "dev" for g in groups) / len(groups)
        assert abs(dev - percent / 100) < 0.02


def test_extremes_and_validation() -> None:
    assert {split_of(f"g{i}", dev_percent=0) for i in range(500)} == {"train"}
    assert {split_of(f"g{i}", dev_percent=100) for i in range(500)} == {"dev"}
    for bad in (-1, 101):
        with pytest.raises(ValueError):
            split_of("g", dev_percent=bad)


def test_salt_draws_a_different_split() -> None:
    groups = [f"g{i}" for i in range(1000)]
    a = [split_of(g) for g in groups]
    b = [split_of(g, salt="other") for g in groups]
    assert a != b


def test_split_records_never_straddles_and_keeps_order() -> None:
    records = [_rec(f"g{i % 97}", i) for i in range(2000)]
    train, dev = split_records(records)
    assert len(train) + len(dev) == len(records)
    assert not {r.group for r in train} & {r.group for r in dev}
    ids = [r.conversation.id for r in records]
    assert [ids.index(r.conversation.id) for r in train] == sorted(
        ids.index(r.conversation.id) for r in train
    )
    assert all(split_of(r.group) == "dev" for r in dev)
    assert split_records(records) == (train, dev)
    assert split_records(iter(records)) == (train, dev)


def test_split_records_accepts_anything_with_a_group() -> None:
    items = [StageItem(f"text {i}", "neutral", f"c{i % 10}") for i in range(100)]
    train, dev = split_records(items, dev_percent=50, salt="s")
    assert not {i.group for i in train} & {i.group for i in dev}


@given(st.lists(st.tuples(st.text(max_size=20), st.integers(0, 5)), max_size=60), st.integers(0, 100))
def test_no_group_on_both_sides(pairs: list[tuple[str, int]], percent: int) -> None:
    records = [_rec(g, i) for i, (g, _) in enumerate(pairs)]
    train, dev = split_records(records, dev_percent=percent)
    assert not {r.group for r in train} & {r.group for r in dev}
    assert len(train) + len(dev) == len(records)
