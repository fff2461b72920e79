"""Deterministic train/dev splits by group, never by message or by conversation.

A record's side depends only on its ``group`` string (a hash bucket), so a predator and his decoys, or
all windows of one chat room, always land together, on every machine and in every run, without a
random state or a stored split file. Changing ``salt`` draws a different, equally valid split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal, Protocol, TypeVar

__all__ = ["DEFAULT_SALT", "HasGroup", "Split", "split_of", "split_records"]

DEFAULT_SALT = "safeguarding-split-v1"

Split = Literal["train", "dev"]


class HasGroup(Protocol):
    """Anything with a split key: :class:`LabelledConversation`, :class:`StageItem`."""

    @property
    def group(self) -> str: ...


R = TypeVar("R", bound=HasGroup)


def split_of(group: str, *, dev_percent: int = 20, salt: str = DEFAULT_SALT) -> Split:
    """``"dev"`` for about ``dev_percent`` % of groups, ``"train"`` for the rest.

    The bucket is ``int(sha256(salt + NUL + group)[:8 hex], 16) % 100``; the NUL keeps ``salt`` and
    ``group`` from running into each other.
    """
    if not 0 <= dev_percent <= 100:
        raise ValueError(f"dev_percent must be in 0..100, got {dev_percent}")
    digest = hashlib.sha256(f"{salt}\x00{group}".encode("utf-8", "surrogatepass")).hexdigest()
    return "dev" if int(digest[:8], 16) % 100 < dev_percent else "train"


def split_records(
    records: Iterable[R], *, dev_percent: int = 20, salt: str = DEFAULT_SALT
) -> tuple[list[R], list[R]]:
    """``(train, dev)`` lists, each in input order; no group appears on both sides."""
    train: list[R] = []
    dev: list[R] = []
    memo: dict[str, Split] = {}
    for r in records:
        side = memo.get(r.group)
        if side is None:
            side = memo[r.group] = split_of(r.group, dev_percent=dev_percent, salt=salt)
        (dev if side == "dev" else train).append(r)
    return train, dev
