"""Age bands seen from each side of a contact, and age gaps.

The one rule that matters most here: an unknown age is the riskier case on each side. As a *sender* an
unknown account is judged as an adult (it must not get the freedoms of a child); as a *recipient* or a
subject of suggestions it is protected as a child, the youngest band. Both substitutions are reported in
the decision's reasons, so nobody wonders why an adult-looking account was protected.
"""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.types import AgeBand

MINOR_BANDS: frozenset[AgeBand] = frozenset({AgeBand.UNDER_13, AgeBand.AGE_13_15, AgeBand.AGE_16_17})
BAND_ALIASES: dict[str, frozenset[AgeBand]] = {
    "minor": MINOR_BANDS,
    "child": MINOR_BANDS,
    "any": frozenset(AgeBand),
}

# Youngest and oldest possible age in whole years for each band, for conservative age gaps.
_BAND_RANGE: dict[AgeBand, tuple[float, float]] = {
    AgeBand.UNDER_13: (0.0, 12.999),
    AgeBand.AGE_13_15: (13.0, 15.999),
    AgeBand.AGE_16_17: (16.0, 17.999),
    AgeBand.ADULT: (18.0, 120.0),
    AgeBand.UNKNOWN: (0.0, 120.0),
}


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day``."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def band_for_age(years: int) -> AgeBand:
    if years < 0:
        return AgeBand.UNKNOWN
    if years < 13:
        return AgeBand.UNDER_13
    if years < 16:
        return AgeBand.AGE_13_15
    if years < 18:
        return AgeBand.AGE_16_17
    return AgeBand.ADULT


def band_at(band: AgeBand, birth_date: date | None, when: datetime) -> AgeBand:
    """The band on a given day: a birth date wins over a stored band, so birthdays move people on."""
    if birth_date is None:
        return band
    return band_for_age(age_on(birth_date, when.date()))


def as_sender(band: AgeBand) -> AgeBand:
    """Unknown senders are judged as adults."""
    return AgeBand.ADULT if band is AgeBand.UNKNOWN else band


def as_recipient(band: AgeBand) -> AgeBand:
    """Unknown recipients (and subjects of suggestions) are protected as the youngest children."""
    return AgeBand.UNDER_13 if band is AgeBand.UNKNOWN else band


def is_minor(band: AgeBand) -> bool:
    return band in MINOR_BANDS


def min_age_gap(
    older: AgeBand,
    younger: AgeBand,
    older_age: float | None = None,
    younger_age: float | None = None,
) -> float:
    """The smallest age difference in years consistent with what we know (exact ages when given).

    Conservative on purpose: an adult and a 16-17 year old may be one year apart, so the gap signal
    fires only when the bands alone prove a large difference (an adult and an under-13 are at least
    five years apart).
    """
    lo_older = older_age if older_age is not None else _BAND_RANGE[older][0]
    hi_younger = younger_age if younger_age is not None else _BAND_RANGE[younger][1]
    return max(0.0, lo_older - hi_younger)
