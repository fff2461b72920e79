"""Safeguarding: an open-source child online-safety engine.

Nothing heavy is imported here: the model loads lazily on first use.
"""

from safeguarding.errors import InputError, ModelError, SafeguardingError
from safeguarding.types import (
    STAGES,
    AgeBand,
    Assessment,
    Assurance,
    AuthorRisk,
    Conversation,
    DrivingMessage,
    Message,
    Reason,
    Stage,
)

__version__ = "0.1.0"

__all__ = [
    "STAGES",
    "AgeBand",
    "Assessment",
    "Assurance",
    "AuthorRisk",
    "Conversation",
    "DrivingMessage",
    "InputError",
    "Message",
    "ModelError",
    "Reason",
    "SafeguardingError",
    "Stage",
    "__version__",
]
