"""The safety notices a child gets in the moment, decided from the facts of one contact.

A notice is a fact about a delivered contact, not a verdict on a person: "an adult you have not talked to
before sent you a message", "someone asked you to move to another app". The engine attaches them to the
event's outcome (so the platform can show them as the message arrives), the service keeps them for the
child's page, and a parent sees that a notice was shown — never the message behind it.

Who triggers a notice (:func:`notices_for`): the recipient must be a minor (unknown age counts as one)
and the contact must have gone through. Requests to move apps, keep a secret or meet come from message
text, and only when the sender is an adult (unknown age counts as one) or not one of the child's
connections: two connected children arranging to meet at the park get no notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safeguarding.detection.cues import Cue
from safeguarding.policy.model import Action


class NoticeKind(StrEnum):
    NEW_ADULT_CONTACT = "new_adult_contact"
    """The first message to the child from an adult."""
    STRANGER_REQUEST = "stranger_request"
    """A follow, contact request or group invite from an adult the child is not connected with."""
    MOVE_APP = "move_app"
    """A request to continue on another app or by phone."""
    KEEP_SECRET = "keep_secret"
    """A request to keep the chat, or something in it, secret."""
    MEET_UP = "meet_up"
    """A request to meet in person."""


@dataclass(frozen=True, slots=True)
class ChildNotice:
    """One notice for ``child`` about ``about`` (the other account), in ``conversation`` when a message."""

    child: str
    kind: NoticeKind
    about: str
    conversation: str | None = None


_CUE_KINDS = ((Cue.OFF_PLATFORM, NoticeKind.MOVE_APP), (Cue.SECRECY, NoticeKind.KEEP_SECRET),
              (Cue.MEETING, NoticeKind.MEET_UP))  # fmt: skip
TEXT_CUES = Cue.OFF_PLATFORM | Cue.SECRECY | Cue.MEETING
"""The message cues that can raise a notice (the rest explain alerts but are not shown to the child)."""
REQUESTS = frozenset({Action.FOLLOW, Action.CONTACT_REQUEST, Action.GROUP_INVITE})


def notices_for(
    action: Action,
    *,
    delivered: bool,
    recipient_minor: bool,
    sender_adult: bool,
    connected: bool,
    first_contact: bool,
    cues: int = 0,
) -> tuple[NoticeKind, ...]:
    """The notices one contact raises for its recipient, in a fixed order (empty for most contacts).

    ``cues`` is the message's :class:`~safeguarding.detection.cues.Cue` bit set (0 without text).
    """
    if not (delivered and recipient_minor):
        return ()
    out: list[NoticeKind] = []
    if action is Action.MESSAGE:
        if sender_adult and first_contact:
            out.append(NoticeKind.NEW_ADULT_CONTACT)
        if cues and (sender_adult or not connected):
            out.extend(kind for cue, kind in _CUE_KINDS if cues & cue)
    elif action in REQUESTS and sender_adult and not connected:
        out.append(NoticeKind.STRANGER_REQUEST)
    return tuple(out)
