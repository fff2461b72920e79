"""Parental controls (per child account) and a platform's family settings (per tenant).

Controls are engine state: they change contact decisions, so they arrive as ``parental_controls``
events (from the parent view or from the platform) and are kept on the child's account record as a
small bit set. Family settings are the platform's choices about what parents may do and see.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from enum import IntFlag
from typing import Any

from safeguarding.errors import InputError


class Control(IntFlag):
    """The controls a parent may switch on for a linked child (stored as ``sg_accounts.controls``)."""

    NONE = 0
    APPROVAL_REQUIRED = 1
    """A new adult may message the child only once a linked parent approved them."""
    PAUSE_NON_CONNECTIONS = 2
    """Nobody outside the child's connections may message, follow, request or invite them."""


@dataclass(frozen=True, slots=True)
class FamilySettings:
    """What a platform allows its parents (``PUT /v1/tenants/{tenant}/family-settings``).

    ``show_flagged_to_under13_parents``: a parent of an under-13 may read the messages that drove an alert,
    and only after a moderator escalated the case. Off by default: parents see *who*, not *what*.
    """

    allow_approval: bool = True
    allow_pause: bool = True
    allow_weekly_summary: bool = True
    show_flagged_to_under13_parents: bool = False
    direct_link_under13: bool = True
    """The platform may link a parent to an under-13 directly; older children accept an invitation."""
    invitation_days: int = 14

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> FamilySettings:
        if not text:
            return cls()
        return cls.from_mapping(json.loads(text))

    @classmethod
    def from_mapping(cls, doc: Any, base: FamilySettings | None = None) -> FamilySettings:
        """Validated settings from a JSON object; unknown keys and wrong types are refused by name."""
        if not isinstance(doc, dict):
            raise InputError("family settings are a JSON object")
        known = {f.name: f for f in fields(cls)}
        values = asdict(base or cls())
        for key, value in doc.items():
            if key not in known:
                raise InputError(f"unknown family setting {key!r} (known: {', '.join(sorted(known))})")
            want = int if key == "invitation_days" else bool
            if type(value) is not want:
                raise InputError(
                    f"family setting {key!r} must be {'an integer' if want is int else 'true or false'}"
                )
            values[key] = value
        if not 1 <= values["invitation_days"] <= 90:
            raise InputError("family setting 'invitation_days' must be between 1 and 90")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """An adult tried to message a child whose parent approves new adult contacts first.

    Raised by the engine only when the parent's approval is what stands in the way (the same contact
    with approval given would have been allowed), so a parent is never asked about contact the policy
    refuses anyway.
    """

    child: str
    adult: str
    conversation: str | None = None
