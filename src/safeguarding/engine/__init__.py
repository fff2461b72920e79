"""The safety engine: ``Engine.process(event) -> Outcome`` fusing policy, signals and the text detector.

Pure core: no SQL, web or CLI imports (the store is reached through the :class:`~safeguarding.store.
Store` protocol). See ``docs/replay.md`` for the outcome format.
"""

from safeguarding.engine.clock import Clock, FrozenClock, SystemClock
from safeguarding.engine.detector import ConversationDetector
from safeguarding.engine.engine import Engine, event_digest
from safeguarding.engine.outcome import Alert, AlertKind, Outcome, RecipientDecision, Rejected

__all__ = [
    "Alert",
    "AlertKind",
    "Clock",
    "ConversationDetector",
    "Engine",
    "FrozenClock",
    "Outcome",
    "RecipientDecision",
    "Rejected",
    "SystemClock",
    "event_digest",
]
