"""The one signal input that reads text: a request to move the conversation to another app.

Deliberately a small, documented pattern list rather than a model: it must be cheap on every message,
explainable in one sentence, and identical on the server and on a device. When text is absent (end-to-end
encrypted mode) it is simply never called.
"""

from __future__ import annotations

import re

_APPS = (
    r"snap(?:chat)?|whats\s?app|telegram|kik|discord|signal app|wickr|skype|line app|wechat|viber|"
    r"facetime|imessage|google\s?chat|hangouts|omegle|insta(?:gram)?|tiktok|tik tok"
)
_PATTERNS = (
    # "add me on snap", "let's talk on whatsapp", "msg me on telegram"
    rf"\b(?:add|message|msg|text|talk|chat|dm|hmu|find|follow|call)\b[^.!?\n]{{0,25}}\b(?:on|in|at|via)\s+(?:{_APPS})\b",
    # "what's your snap", "got whatsapp?", "do you have kik"
    rf"\b(?:what'?s|whats|got|have|use)\s+(?:your|ur|u|you)?\s*(?:{_APPS})\b",
    # "give me your number", "send me ur phone number", "what's your number"
    r"\b(?:your|ur|my)\s+(?:phone\s+|mobile\s+|cell\s+)?(?:number|digits|#)\b(?!\s+(?:one|1|two|2|three|3)\b)",
    r"\b(?:text|call|ring)\s+me\b",
    # "switch apps", "move to another app", "somewhere more private"
    r"\b(?:another|different|other|private|better)\s+(?:app|chat|platform)\b",
    r"\b(?:switch|move)\s+(?:apps?|platforms?|chats?)\b",
)
_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def asks_to_move_off_platform(text: str) -> bool:
    """True when ``text`` asks to continue elsewhere (another app, a phone number)."""
    return _RE.search(text[:2000]) is not None
