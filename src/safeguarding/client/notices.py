"""The safety notice a child's device shows when its own detector flags a conversation.

A typed object, not a rendered screen: the app owns layout, language and accessibility. The wording is
written for a 10-15-year-old reader, names no message and blames no one by name (the detector can be
wrong), and always offers the same safe actions: block, report, talk to someone. Nothing in it leaves the
device.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safeguarding.types import Assessment, Stage


class NoticeAction(StrEnum):
    """What the app offers under the notice. ``REPORT`` is the only path that reveals message text."""

    REPORT = "report"
    BLOCK = "block"
    GET_HELP = "get_help"
    DISMISS = "dismiss"


class NoticeLevel(StrEnum):
    CAUTION = "caution"
    URGENT = "urgent"


URGENT_STAGES = frozenset({Stage.SEXUALISATION, Stage.MEETING, Stage.CONTROL_COERCION})
URGENT_RISK = 0.8

_TIPS: dict[Stage, str] = {
    Stage.TRUST_BUILDING: "Lots of compliments from someone you have not met can be a way to win your trust.",
    Stage.INFORMATION_GATHERING: "You do not have to say how old you are, where you live or who is at home.",
    Stage.SECRECY_ISOLATION: "Nobody safe asks you to keep chats secret from your family.",
    Stage.SEXUALISATION: "If someone sends or asks for sexual messages or photos, it is not your fault. "
    "Tell an adult you trust.",
    Stage.CONTROL_COERCION: "If someone pressures or threatens you, stop replying and tell someone now.",
    Stage.OFF_PLATFORM: "Be careful if someone wants to move the chat to another app or get your number.",
    Stage.MEETING: "Never go to meet someone from online alone. Talk to a parent or carer first.",
    Stage.GIFTS: "Gifts, money or game credit from someone online can come with strings attached.",
}


@dataclass(frozen=True, slots=True)
class SafetyNotice:
    """What the app renders. ``about`` is the account the detector is worried about (device-local)."""

    conversation: str
    level: NoticeLevel
    title: str
    body: str
    tips: tuple[str, ...]
    stages: tuple[Stage, ...]
    actions: tuple[NoticeAction, ...]
    about: str | None = None


def notice_for(assessment: Assessment) -> SafetyNotice:
    """The notice for a flagged assessment (the same object whatever the conversation's content)."""
    urgent = assessment.risk >= URGENT_RISK or bool(URGENT_STAGES.intersection(assessment.stages))
    level = NoticeLevel.URGENT if urgent else NoticeLevel.CAUTION
    title = "Are you OK?" if urgent else "Take care in this chat"
    body = (
        "Some messages in this chat look like ways people try to trick or pressure young people. "
        "You have done nothing wrong. You can block this person, report the chat, or talk to someone "
        "you trust. Only you can choose to report; nobody else has read this chat."
    )
    tips = tuple(_TIPS[s] for s in assessment.stages if s in _TIPS)
    actions = (NoticeAction.REPORT, NoticeAction.BLOCK, NoticeAction.GET_HELP, NoticeAction.DISMISS)
    return SafetyNotice(
        conversation=assessment.conversation,
        level=level,
        title=title,
        body=body,
        tips=tips,
        stages=assessment.stages,
        actions=actions,
        about=assessment.suspect,
    )
