"""What the engine needs from a streaming conversation detector.

:class:`safeguarding.detection.Detector` satisfies this protocol; so can any other detector. The state
is opaque to the engine: it only creates it, feeds messages through it, and persists it as bytes after
each batch, which is what lets a restarted engine resume a conversation exactly where it stopped.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from safeguarding.types import Assessment, Message

S = TypeVar("S")


class ConversationDetector(Protocol[S]):
    @property
    def version(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def new_state(self, conversation: str) -> S: ...

    def update(self, state: S, message: Message) -> Assessment: ...

    def dump_state(self, state: S) -> bytes: ...

    def load_state(self, blob: bytes) -> S: ...
