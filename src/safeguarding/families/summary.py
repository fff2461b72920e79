"""The weekly summary a parent gets: who each linked child talked to this week, new adults, alerts.

Pure text built from the parent view's data (never message bodies). The service shows it in the app and,
when an SMTP server is configured, emails it once per parent per week (``safeguarding family
send-summaries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from safeguarding.families.contacts import Contact
from safeguarding.families.wording import HELP


@dataclass(frozen=True, slots=True)
class ChildWeek:
    name: str
    contacts: Sequence[Contact]
    alerts: Sequence[str]
    """Alert headlines of the week."""


def week_of(now: datetime) -> date:
    """The Monday of ``now``'s ISO week (the summary's key: one per parent per week)."""
    d = now.date()
    return date.fromordinal(d.toordinal() - d.weekday())


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def week_sentence(name: str, contacts: Sequence[Contact], alerts: int, now: datetime) -> str:
    """A child's week in one plain sentence: "Sam talked to 4 people this week; 1 new adult; 1 alert"."""
    talked = sum(1 for c in contacts if c.messages_week)
    new_adults = sum(1 for c in contacts if c.adult and c.new(now))
    return (
        f"{name} talked to {_count(talked, 'person', 'people')} this week; "
        f"{_count(new_adults, 'new adult', 'new adults')}; {_count(alerts, 'alert', 'alerts')}"
    )


def weekly_summary(children: Sequence[ChildWeek], now: datetime) -> tuple[str, str]:
    """``(subject, plain text)`` for one parent."""
    lines = [f"Your weekly summary for the week of {week_of(now).isoformat()}", ""]
    alerts = 0
    for c in children:
        new_adults = [x for x in c.contacts if x.adult and x.new(now)]
        alerts += len(c.alerts)
        lines.append(week_sentence(c.name, c.contacts, len(c.alerts), now) + ".")
        for x in new_adults:
            lines.append(f"  - new adult: {x.display_name or x.account} (since {x.since.date().isoformat()})")
        for headline in c.alerts:
            lines.append(f"  - alert: {headline}")
    lines += ["", "Details are in the parent view. You see who your child talks to, never what they say.",
              "Help: " + "; ".join(f"{h.name} {h.url}" for h in HELP)]  # fmt: skip
    subject = "Safeguarding weekly summary" + (f": {_count(alerts, 'alert', 'alerts')}" if alerts else "")
    return subject, "\n".join(lines) + "\n"
