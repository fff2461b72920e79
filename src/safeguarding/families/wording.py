"""Plain-language texts: what a child is told in the moment, what a parent is told about an alert, what
the monitoring sign says, and where to get help.

Written for a 10-15-year-old reader (notices) and a tired parent at 11pm (alerts): short sentences, no
jargon, nobody named as guilty (the detector can be wrong), always a next step. The platform may show its
own wording; these are the defaults the API returns and the pages render.
"""

from __future__ import annotations

from dataclasses import dataclass

from safeguarding.families.notices import NoticeKind


@dataclass(frozen=True, slots=True)
class Help:
    name: str
    url: str
    what: str


HELP: tuple[Help, ...] = (
    Help("Childline", "https://www.childline.org.uk",
         "Free, private help for under-19s: call 0800 1111 or chat online."),
    Help("CEOP", "https://www.ceop.police.uk/Safety-Centre/",
         "Report online sexual abuse or grooming to the police."),
    Help("NSPCC", "https://www.nspcc.org.uk/keeping-children-safe/online-safety/",
         "Advice for parents and carers: 0808 800 5000."),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NoticeText:
    title: str
    body: str
    tell: str


NOTICE_TEXT: dict[NoticeKind, NoticeText] = {
    NoticeKind.NEW_ADULT_CONTACT: NoticeText(
        "An adult messaged you for the first time",
        "You have not talked to this adult here before. Only chat if you know them in real life. "
        "You can block or report them, and you do not have to reply.",
        "If anything feels odd, tell a parent, carer or teacher.",
    ),
    NoticeKind.STRANGER_REQUEST: NoticeText(
        "An adult you are not connected with wants to connect",
        "You do not have to accept. Only accept people you know in real life.",
        "Not sure? Ask a parent or carer before you accept.",
    ),
    NoticeKind.MOVE_APP: NoticeText(
        "Someone asked you to move to another app",
        "People who want to trick young people often ask to chat somewhere else, or for your number. "
        "You can say no and stay here.",
        "Tell someone you trust if they keep asking.",
    ),
    NoticeKind.KEEP_SECRET: NoticeText(
        "Someone asked you to keep a secret",
        "Nobody safe asks you to hide a chat from your family. You will not be in trouble for telling.",
        "Tell a parent, carer or teacher what happened.",
    ),
    NoticeKind.MEET_UP: NoticeText(
        "Someone asked to meet you",
        "Never go to meet someone from online on your own. Talk to a parent or carer first.",
        "Tell a parent or carer before you agree to anything.",
    ),
}

REPORT_REASONS: dict[str, str] = {
    "made_me_uncomfortable": "They made me feel uncomfortable",
    "asked_for_photos": "They asked for photos",
    "asked_to_meet": "They asked to meet",
    "asked_to_keep_secret": "They asked me to keep a secret",
    "bullying": "Bullying",
    "other": "Something else",
}
"""Why a child reports someone: the codes the API takes, with the words the child's page shows."""
NOTICE_REASON = {NoticeKind.KEEP_SECRET: "asked_to_keep_secret", NoticeKind.MEET_UP: "asked_to_meet"}
"""The report reason a notice suggests (the child can change it)."""

MONITORING_SIGN = "Your parent or carer can see who you talk to"
PARENT_SEES = (
    "the names and age groups of the people you message, and since when",
    "how many messages you swap each week (not what they say)",
    "safety alerts about your chats, in plain words",
    "reports you choose to share with them",
)
PARENT_DOES_NOT_SEE = (
    "what your messages say",
    "your photos",
    "reports you make unless you tick 'tell my parent'",
)


@dataclass(frozen=True, slots=True)
class AlertText:
    headline: str
    what: str
    next_steps: tuple[str, ...]


_TALK = "Talk with your child calmly: they are not in trouble, and you want them to tell you things."
_BLOCK = "If they want to, help them block the person (your child can also do it from the safety notice)."
_REPORT = "The platform's safety team has been told and will review it."

ALERT_TEXT: dict[str, AlertText] = {
    "grooming": AlertText(
        "A conversation looked like grooming",
        "Messages to your child followed patterns adults use to win a child's trust and then exploit it.",
        (_TALK, _BLOCK, _REPORT, "If you think your child is in danger now, call 999."),
    ),
    "risky_account": AlertText(
        "Someone your child talks to shows risky behaviour",
        "An account your child is in contact with has been contacting many young people it does not know, "
        "or has been blocked or reported by them.",
        (_TALK, _BLOCK, _REPORT),
    ),
    "blocked_contact_pattern": AlertText(
        "Someone kept trying to contact your child",
        "An account tried to reach young people again and again after the platform stopped it.",
        (_TALK, _BLOCK, _REPORT),
    ),
    "child_report": AlertText(
        "Your child reported someone",
        "Your child used the report button and chose to tell you. Well done to them.",
        ("Thank your child for telling you.", _REPORT, _BLOCK),
    ),
}

STAGE_WORDS: dict[str, str] = {
    "trust_building": "lots of flattery and attention",
    "information_gathering": "questions about age, where your child lives or who is at home",
    "secrecy_isolation": "asking to keep things secret",
    "sexualisation": "sexual talk",
    "control_coercion": "pressure or threats",
    "off_platform": "asking to move to another app or for a phone number",
    "meeting": "trying to arrange a meeting",
    "gifts": "offering gifts, money or game credit",
}


def alert_text(kind: str) -> AlertText:
    return ALERT_TEXT.get(kind, ALERT_TEXT["risky_account"])


def stage_words(stages: tuple[str, ...] | list[str]) -> list[str]:
    return [STAGE_WORDS[s] for s in stages if s in STAGE_WORDS]
