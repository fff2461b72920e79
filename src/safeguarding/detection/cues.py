"""Hand-written behavioural cues of one chat message: who asks what of whom.

Why cues at all: a lexical model trained on Perverted-Justice chats learns "flirty or sexual talk means
predator" and fails both ways — on adult sexual chat and benign look-alikes (a surprise party secret, a
coach who informs parents, teens meeting at the mall), and on grooming written in slang or through game
gifts. Cues name the *act* a message performs (asks the other side's age, asks for secrecy, offers
robux, states "im 13") so that the conversation-level model can combine acts with the stated ages of
both sides. They are evidence, not verdicts: "secret santa" does fire SECRECY; context decides.

Speed: this runs on every message. A message is normalised once, split into words, and the word set is
intersected with a trigger table; only the small pattern groups whose trigger words occur run their
precompiled regex. A typical 60-character chat line costs about 7 µs of CPU (see ``docs/stages.md``).
Callers that need both the cues and the stated age should call :func:`cue_flags_and_age` (one pass).
"""

from __future__ import annotations

import enum
import re
from importlib import resources
from typing import NamedTuple

from safeguarding.detection.features import normalise
from safeguarding.types import Stage

__all__ = ["CUE_STAGES", "N_CUES", "Cue", "cue_flags", "cue_flags_and_age", "cue_names", "stated_age"]


class Cue(enum.IntFlag):
    """One bit per behavioural cue. Bit ``i`` is ``1 << i``; the order is part of the model artifact."""

    AGE_QUESTION = enum.auto()
    LOCATION_QUESTION = enum.auto()
    ALONE_QUESTION = enum.auto()
    SECRECY = enum.auto()
    MEETING = enum.auto()
    OFF_PLATFORM = enum.auto()
    GIFTS = enum.auto()
    SEXUAL = enum.auto()
    PHOTO_REQUEST = enum.auto()
    COMPLIMENT = enum.auto()
    AFFECTION = enum.auto()
    MATURITY = enum.auto()
    CONTROL = enum.auto()
    ISOLATION = enum.auto()
    MINOR_SELF = enum.auto()
    ADULT_SELF = enum.auto()
    PARENT_MENTION = enum.auto()
    QUESTION = enum.auto()
    SCHOOL = enum.auto()


N_CUES: int = len(Cue)

CUE_STAGES: dict[Cue, Stage] = {
    Cue.AGE_QUESTION: Stage.INFORMATION_GATHERING,
    Cue.LOCATION_QUESTION: Stage.INFORMATION_GATHERING,
    Cue.ALONE_QUESTION: Stage.INFORMATION_GATHERING,
    Cue.SECRECY: Stage.SECRECY_ISOLATION,
    Cue.ISOLATION: Stage.SECRECY_ISOLATION,
    Cue.SEXUAL: Stage.SEXUALISATION,
    Cue.PHOTO_REQUEST: Stage.SEXUALISATION,
    Cue.CONTROL: Stage.CONTROL_COERCION,
    Cue.OFF_PLATFORM: Stage.OFF_PLATFORM,
    Cue.MEETING: Stage.MEETING,
    Cue.GIFTS: Stage.GIFTS,
    Cue.COMPLIMENT: Stage.TRUST_BUILDING,
    Cue.AFFECTION: Stage.TRUST_BUILDING,
    Cue.MATURITY: Stage.TRUST_BUILDING,
}
"""Which cues evidence which grooming stage. Self-statements, questions, parents and school are context."""


def cue_names() -> list[str]:
    """Lower-case cue names in bit order (``cue_names()[i]`` names bit ``1 << i``)."""
    return [c.name.lower() for c in Cue if c.name]


# -- lexicon ------------------------------------------------------------------------------------------------
# Placeholders keep the patterns readable (<Y> = you/u/ya..., <YR> = your/ur..., <PAR> = parent words).
_MACROS = {
    "<YRE>": r"(?:you'?re|your|ur|u'?r|u r|you are|u are|ure|youre|yur|ya)",
    "<YR>": r"(?:your|ur|yr|yur|yor|ure|youre)",
    "<Y>": r"(?:you|u|ya|yu|yah|yoo|youu|chu)",
    "<ARE>": r"(?:are|r|re|ar)",
    "<DONT>": r"(?:don'?t|dont|dnt|do not|doant|dun)",
    "<IM>": r"(?:i'?m|im|i am|iam|i'?ma)",
    "<ILL>": r"(?:i'?ll|ill|i will|i'?m gonna|im gonna|i am gonna|i'?m going to|i am going to|imma|i'?ma)",
    "<PAR>": r"(?:parents?|rents|moms?|mums?|mommy|mummy|mother|dads?|daddy|father|folks|family|mama"
    r"|step ?(?:dad|mom|mum))",
    "<PIC>": r"(?:pics?|pix|pik|picz|pictures?|photos?|fotos?|selfies?|snaps?|vids?|videos?|nudes?|noods?)",
    "<ANY1>": r"(?:any ?one|any ?body|any1|ne1|no ?one|nobody|no1|no body|every ?one|every1|people|ppl)",
}
_MACRO_RE = re.compile("|".join(re.escape(k) for k in _MACROS))


def _expand(patterns: tuple[str, ...]) -> str:
    body = "|".join(patterns)
    body = _MACRO_RE.sub(lambda m: _MACROS[m.group(0)], body).replace(" ?", r"\s*").replace(" ", r"\s+")
    return r"(?<![a-z0-9])(?:" + body + r")(?![a-z0-9])"


_LEXICON = (resources.files("safeguarding.detection") / "cue_lexicon.txt").read_text(encoding="utf-8")


class _Group(NamedTuple):
    cue: str
    triggers: list[str]
    needs: list[str]
    patterns: list[str]


def _parse(lexicon: str) -> tuple[dict[str, list[str]], list[_Group]]:
    direct: dict[str, list[str]] = {}
    groups: list[_Group] = []
    cue = ""
    for raw in lexicon.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("# "):
            continue
        if line.startswith("["):
            cue = line.strip("[]")
            direct[cue] = []
        elif line.startswith("= "):
            direct[cue].extend(line[2:].split())
        elif line.startswith("? "):
            if not groups or groups[-1].cue != cue or groups[-1].patterns:
                groups.append(_Group(cue, [], [], []))
            groups[-1].triggers.extend(line[2:].split())
        elif line.startswith("& "):
            groups[-1].needs.extend(line[2:].split())
        elif line.startswith("..."):
            groups[-1].patterns[-1] += line[3:]
        else:
            groups[-1].patterns.append(line)
    return direct, groups


def _words(text: str) -> frozenset[bytes]:
    return frozenset(text.encode().split())


_TENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
_AGE_WORDS = {w: n for n, w in enumerate(_TENS.split(), 10)} | {"thirty": 30, "forty": 40, "fifty": 50}
_AGE_WORD_SET = frozenset(w.encode() for w in _AGE_WORDS)
_TIME_WORDS = _words("tonight tomorrow tmrw tmr 2morrow today weekend saturday sunday friday later when sat")
_QUESTION_START = _words(
    "what wat wut wht whats wats where wher whr were when wen who whos whose why y how hw which are r is am "
    "do does did can could would will should shall have has wanna got any ru hbu wbu wyd wya wru asl"
)

# -- compiled tables ---------------------------------------------------------------------------------------
# Plain ints on the hot path: IntFlag arithmetic costs a microsecond per operation.
_AFFECTION, _MEETING, _QUESTION = int(Cue.AFFECTION), int(Cue.MEETING), int(Cue.QUESTION)
_MINOR_SELF, _ADULT_SELF, _LOCATION_QUESTION = (
    int(Cue.MINOR_SELF),
    int(Cue.ADULT_SELF),
    int(Cue.LOCATION_QUESTION),
)
# Words are found with bytes.translate + split (4x faster than a regex): every byte that is not an ASCII
# letter or digit becomes a space, so the words are exactly the matches of [a-z0-9]+ in the text.
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
_TO_SPACE = bytes(c if c in _ALNUM else 32 for c in range(256))


def _split(norm: str) -> list[bytes]:
    return norm.encode("utf-8", "replace").translate(_TO_SPACE).split()


_DIGIT_RE = re.compile(r"\d")


_Compiled = tuple[int, frozenset[bytes], re.Pattern[str]]


def _build(lexicon: str) -> tuple[dict[bytes, tuple[int, int]], list[_Compiled]]:
    """Word -> (cue bits it sets, bitmask of groups it triggers); groups as (cue bit, needs, regex)."""
    table: dict[bytes, list[int]] = {}
    direct, groups = _parse(lexicon)
    for name, words in direct.items():
        for w in words:
            table.setdefault(w.encode(), [0, 0])[0] |= int(Cue[name])
    compiled: list[_Compiled] = []
    for i, g in enumerate(groups):
        for w in g.triggers:
            table.setdefault(w.encode(), [0, 0])[1] |= 1 << i
        compiled.append(
            (int(Cue[g.cue]), frozenset(w.encode() for w in g.needs), re.compile(_expand(tuple(g.patterns))))
        )
    return {w: (d, c) for w, (d, c) in table.items()}, compiled


_TABLE, _GROUPS = _build(_LEXICON)
_DIGIT_GROUPS = _TABLE.pop(b"#digit", (0, 0))[1]
_DOLLAR_GROUPS = _TABLE.pop(b"$", (0, 0))[1]
for _w in _AGE_WORD_SET:
    _TABLE.setdefault(_w, (0, 0))
_KEYS = frozenset(_TABLE)
_VETO_MEETING = re.compile(
    _expand(
        (
            r"(?:nice|good|glad|pleased|great|lovely|nic|gud|happy|gr8) (?:to |2 )?meet(?:ing)? (?:<Y>|all)",
            r"meet (?:the|those|these|our|<YR>|its|their|all|every|any|a|my|his|her) (?:\w+ )?"
            r"(?:deadlines?|requirements?|goals?|targets?|criteria|standards?|needs|expectations?|quotas?"
            r"|demands?|minimums?|conditions?)",
        )
    )
)
# -- stated age ---------------------------------------------------------------------------------------------
# Each 1-2 digit number (or age word) is a candidate; small anchored regexes then read the words just
# before and after it. That is cheaper than searching the whole message once per pattern.
_DIGITS_RE = re.compile(r"(?<![0-9a-z.,$:#@_])\d{1,2}(?![0-9])")
_WORDNUM_RE = re.compile(r"(?<![a-z])(?:" + "|".join(_AGE_WORDS) + r")(?![a-z])")
_UNIT_AFTER_RE = re.compile(
    r"\s*(?:'|:|\.\d|,\d|%|\+|-\s*\d|/\s*\d|x\b|(?:st|nd|rd|th)\b|mins?\b|minutes?\b|hrs?\b|hours?\b"
    r"|secs?\b|seconds?\b|days?\b|weeks?\b|wks?\b|months?\b|mos?\b|ft\b|feet\b|foot\b|inch(?:es)?\b|in\b"
    r"|miles?\b|mi\b|km\b|cm\b|k\b|m\s+(?:away|from|left|ahead|behind|out)|am\b|pm\b|o'?clock\b|lbs?\b"
    r"|pounds\b|kg\b|kilos?\b|percent\b|dollars\b|bucks\b|times\b|people\b|of\b|more\b|less\b|out\b"
    r"|outta\b|away\b|points?\b|pts\b|levels?\b|lvl\b|kills?\b|wins?\b|games?\b|hits?\b|steps?\b"
    r"|blocks?\b|things?\b|ish\b|and\s+\d|to\s+\d|or\s+\d)"
)
_SELF_BEFORE_RE = re.compile(
    r"(?<![a-z0-9'])(?:i'?m|im|i am|iam)\s+(?:(?:only|just|almost|nearly|about|turning|gonna be|going to be"
    r"|bout to be|like|already|a)\s+)*$"
)
_MISC_BEFORE_RE = re.compile(
    r"(?:(?<![a-z])my age (?:is|=|:)|(?<![a-z])i (?:just )?turned|(?<![a-z])i'?ll be|(?<![a-z])i will be)\s*$"
)
_MISC_START_RE = re.compile(r"\s*(?:age\s*[:=]?|just turned)\s*$")
# The word just before a self-stated age is one of these (cheap gate before the regexes above).
_BEFORE = "im i'm am iam only just almost nearly about turning be like already a is = : age age: turned"
_BEFORE_WORDS = frozenset(_BEFORE.split())
_MORE_FILLERS = "well lol ok yeah yes and hi"
_FILLERS = (_BEFORE_WORDS - {"a", "is", "be", "=", ":", "age", "age:"}) | frozenset(_MORE_FILLERS.split())
_QMARK_RE = re.compile(r"\s*\?")
_YEARS_AFTER_RE = re.compile(r"\s*-?\s*(?:(?:years?|yrs?|yr|yeers?)\s*-?\s*old\b|yo\b|y/o\b|y\.o\b|yrs\b)")
_ASL_AFTER_RE = re.compile(
    r"\s*(/|,|-|\s)?\s*(f|m|fem|female|male|girl|boy|guy|grl|gurl|chick|dude)(?![a-z0-9])(?!\s+(?:away|from"
    r"|left|ahead|behind|long|tall|high|deep|wide|run|race|dash|more|ago|later|in\b|of\b|and\s+\d))"
)
_ASL_BEFORE_RE = re.compile(
    r"^[\s\W]*(?:(?:asl|a/s/l|hi|hey|hello|sup|yo|me|im|i'm|i am|well|ok|lol)[\s\W]*)*$"
)
_REVERSED_BEFORE_RE = re.compile(r"(?<![a-z0-9])[fm]\s*/\s*$")
_BARE_AFTER_RE = re.compile(r"\s+(?:here|hbu|wbu|and u|n u|and you|u\s*\?)")
_THIRD_PERSON_RE = re.compile(
    r"\b(?:he|she|he'?s|she'?s|hes|shes|they|they'?re|his|her|their|was|were|when|is|are|r|you|u|ur|your|"
    r"yr|look|looks|like|son|daughter|brother|bro|sister|sis|kid|kids|cousin|friend|niece|nephew|dog|cat)\b"
)


def _age_at(norm: str, start: int, end: int, age: int) -> bool:
    """Whether the number ``age`` at ``norm[start:end]`` is the writer's own stated age."""
    before = norm[:start]
    tail = before[-40:]
    parts = tail.split()
    last = parts[-1] if parts else ""
    if last in _BEFORE_WORDS and (
        _SELF_BEFORE_RE.search(tail) or _MISC_BEFORE_RE.search(tail) or _MISC_START_RE.match(before)
    ):
        return _UNIT_AFTER_RE.match(norm, end) is None
    m = _ASL_AFTER_RE.match(norm, end)
    if m:
        sex = m.group(2)
        if len(sex) == 1:
            if (m.group(1) == "/" or _ASL_BEFORE_RE.match(before)) and not _QMARK_RE.match(norm, m.end()):
                return sex == "f" or age >= 10
        elif not _THIRD_PERSON_RE.search(tail[-30:]):
            return True
    if last.endswith("/") and _REVERSED_BEFORE_RE.search(tail):
        return True
    if _YEARS_AFTER_RE.match(norm, end):
        # "13 years old here" opens its clause; "a 13 year old girl" or "she is 13 years old" do not.
        cut = max(tail.rfind("."), tail.rfind("!"), tail.rfind("?"), tail.rfind(","))
        return _FILLERS.issuperset(tail[cut + 1 :].split())
    return age >= 10 and not parts and _BARE_AFTER_RE.match(norm, end) is not None


def _stated_age_norm(norm: str, words: bool) -> int | None:
    for m in _DIGITS_RE.finditer(norm):
        age = int(m.group(0))
        if 5 <= age <= 99 and _age_at(norm, m.start(), m.end(), age):
            return age
    if words:
        for m in _WORDNUM_RE.finditer(norm):
            age = _AGE_WORDS[m.group(0)]
            if _age_at(norm, m.start(), m.end(), age):
                return age
    return None


def stated_age(text: str) -> int | None:
    """A self-stated age 5..99 ("im 13", "i am 50 years old", "13 f", "14/f/tx", "asl? 15 m cali").

    Returns None when no age is stated by the writer about themselves: "13 mins", "at 5", "2 of them",
    "my brother is 15 years old" and "when i was 12" are not ages; a bare "13" is too ambiguous on its own
    (the conversation model pairs it with the other side's age question instead).
    """
    norm = normalise(text)
    has_words = not _AGE_WORD_SET.isdisjoint(_split(norm))
    if not has_words and not _DIGIT_RE.search(norm):
        return None
    return _stated_age_norm(norm, has_words)


def cue_flags(text: str) -> int:
    """Bitmask of :class:`Cue` for one message; 0 for empty text. Never raises on any ``str``."""
    return cue_flags_and_age(text)[0]


def cue_flags_and_age(text: str) -> tuple[int, int | None]:
    """``(cue_flags(text), stated_age(text))`` in one pass over the text."""
    return cues_of_normalised(normalise(text))


def cues_of_normalised(norm: str) -> tuple[int, int | None]:
    """:func:`cue_flags_and_age` of text already passed through ``features.normalise``."""
    words = _split(norm)
    if not words:
        return (_QUESTION if "?" in norm else 0), None
    flags = 0
    groups = 0
    age_word = False
    for w in _KEYS.intersection(words):
        direct, trig = _TABLE[w]
        flags |= direct
        groups |= trig
        age_word = age_word or w in _AGE_WORD_SET
    if "<3" in norm or ":*" in norm:
        flags |= _AFFECTION
    if "$" in norm:
        groups |= _DOLLAR_GROUPS
    has_digit = _DIGIT_RE.search(norm) is not None
    if has_digit:
        groups |= _DIGIT_GROUPS
    while groups:
        low = groups & -groups
        groups ^= low
        bit, needs, rx = _GROUPS[low.bit_length() - 1]
        if not flags & bit and (not needs or not needs.isdisjoint(words)):
            target = _VETO_MEETING.sub(" ", norm) if bit == _MEETING and "meet" in norm else norm
            if rx.search(target):
                flags |= bit
    age = _stated_age_norm(norm, age_word) if has_digit or age_word else None
    if age is not None:
        flags |= _MINOR_SELF if age < 18 else _ADULT_SELF
    if flags & _LOCATION_QUESTION and _TIME_WORDS.intersection(words):
        flags |= _MEETING
    if words[0] in _QUESTION_START:
        flags |= _QUESTION
    else:
        q = norm.rfind("?")
        if q >= 0 and not any(ch.isalnum() for ch in norm[q + 1 :]):
            flags |= _QUESTION
    return flags, age
