"""Training record types: a conversation plus what the training pipeline needs to know about it.

The detector itself only ever sees :class:`~safeguarding.types.Conversation`; labels, sources and split
groups live here so that nothing label-shaped can leak into scoring code by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from safeguarding.types import Conversation


@dataclass(frozen=True, slots=True)
class LabelledConversation:
    """A conversation with its label, where it came from, and the key that decides its split.

    ``group`` is the split key: records sharing it always land on the same side of train/dev (a predator
    and his decoys, all windows of one chat room, ...). ``positive_authors`` names the authors known to be
    predators, so author-level (PAN12 problem 1) labels can be derived; it is empty for negatives and for
    sources whose labels are conversation-level only.
    """

    conversation: Conversation
    source: str
    group: str
    positive_authors: frozenset[str] = field(default_factory=frozenset)
    label: int = 0

    def __post_init__(self) -> None:
        if self.label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {self.label!r}")
        if self.positive_authors and not self.label:
            raise ValueError("a record with positive authors must have label 1")


@dataclass(frozen=True, slots=True)
class StageItem:
    """One message hand-labelled with a grooming stage (or ``neutral``), for the stage tagger.

    ``label`` is kept exactly as the source spells it (for example ``offline_escalation``, which has no
    single :class:`~safeguarding.types.Stage`); mapping onto the project's stage names is the tagger's
    decision, not the loader's.
    """

    text: str
    label: str
    group: str
