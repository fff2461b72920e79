"""Operator knobs for the signals: weight, saturation and window of each, set in the policy file.

Kept as plain frozen dataclasses with a checker that returns readable problems (the policy loader adds
them to its own list), so a typo in ``[signals.fan_out]`` stops start-up instead of silently doing
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

MAX_WINDOW_HOURS = 24 * 90


@dataclass(frozen=True, slots=True)
class SignalSettings:
    """How one signal is read and weighed.

    ``score = min(1, value / saturation)``; the signal adds ``weight * score`` to the account's noisy-OR
    risk. ``minimum``: the least evidence before the signal speaks at all (e.g. requests needed before a
    decline *rate* means anything).
    """

    weight: float
    saturation: float
    window_hours: int
    minimum: float = 0.0
    enabled: bool = True


DEFAULT_SIGNAL_SETTINGS: Mapping[str, SignalSettings] = MappingProxyType(
    {
        "unconnected_minor_contacts": SignalSettings(weight=0.5, saturation=10, window_hours=24),
        "request_decline_rate": SignalSettings(weight=0.4, saturation=0.8, window_hours=168, minimum=3),
        "blocked_by_minors": SignalSettings(weight=0.6, saturation=3, window_hours=720),
        "reported_by_minors": SignalSettings(weight=0.7, saturation=2, window_hours=720),
        "large_age_gap_contacts": SignalSettings(weight=0.3, saturation=5, window_hours=168),
        "night_contacts_with_minors": SignalSettings(weight=0.3, saturation=10, window_hours=168),
        "first_contact_fan_out": SignalSettings(weight=0.6, saturation=10, window_hours=168),
        "off_platform_requests": SignalSettings(weight=0.5, saturation=3, window_hours=168),
        "denied_contact_attempts": SignalSettings(weight=0.3, saturation=10, window_hours=24),
        "new_account": SignalSettings(weight=0.15, saturation=30, window_hours=24),
    }
)


@dataclass(frozen=True, slots=True)
class SignalConfig:
    """All signal settings plus the global knobs of the ``[signals]`` table."""

    signals: Mapping[str, SignalSettings] = field(default_factory=lambda: DEFAULT_SIGNAL_SETTINGS)
    large_age_gap_years: float = 5.0
    """An adult→minor contact counts as a large age gap when the minimum possible gap reaches this."""

    @property
    def retention_hours(self) -> int:
        """Buckets older than this can never fall inside a window and may be pruned."""
        return max(s.window_hours for s in self.signals.values())

    def __getitem__(self, name: str) -> SignalSettings:
        return self.signals[name]


_FIELDS = {"weight", "saturation", "window_hours", "minimum", "enabled"}


def parse_signal_config(raw: Mapping[str, Any], problems: list[str]) -> SignalConfig:
    """Build a :class:`SignalConfig` from the ``[signals]`` table, appending problems instead of raising."""
    merged = dict(DEFAULT_SIGNAL_SETTINGS)
    gap = 5.0
    for key, value in raw.items():
        where = f"signals.{key}"
        if key == "large_age_gap_years":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
                problems.append(f"{where}: must be a number of years between 0 and 100")
            else:
                gap = float(value)
            continue
        if key not in DEFAULT_SIGNAL_SETTINGS:
            known = ", ".join(sorted(DEFAULT_SIGNAL_SETTINGS))
            problems.append(f"{where}: unknown signal (known: {known}, large_age_gap_years)")
            continue
        if not isinstance(value, Mapping):
            problems.append(f"{where}: must be a table such as {{ weight = 0.5 }}")
            continue
        merged[key] = _settings(where, merged[key], value, problems)
    return SignalConfig(signals=MappingProxyType(merged), large_age_gap_years=gap)


def _settings(
    where: str, base: SignalSettings, raw: Mapping[str, Any], problems: list[str]
) -> SignalSettings:
    out = base
    for k, v in raw.items():
        if k not in _FIELDS:
            problems.append(f"{where}.{k}: unknown setting (known: {', '.join(sorted(_FIELDS))})")
            continue
        if k == "enabled":
            if not isinstance(v, bool):
                problems.append(f"{where}.enabled: must be true or false")
            else:
                out = replace(out, enabled=v)
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            problems.append(f"{where}.{k}: must be a number")
            continue
        if k == "weight" and not 0.0 <= v <= 1.0:
            problems.append(f"{where}.weight: must be between 0 and 1 (got {v})")
        elif k == "saturation" and v <= 0:
            problems.append(f"{where}.saturation: must be above 0 (got {v})")
        elif k == "window_hours" and (not isinstance(v, int) or not 1 <= v <= MAX_WINDOW_HOURS):
            problems.append(
                f"{where}.window_hours: must be a whole number of hours from 1 to {MAX_WINDOW_HOURS}"
            )
        elif k == "minimum" and v < 0:
            problems.append(f"{where}.minimum: must not be negative (got {v})")
        elif k == "window_hours":
            out = replace(out, window_hours=int(v))
        else:
            out = replace(out, **{k: float(v)})  # type: ignore[arg-type]  # k is weight/saturation/minimum
    return out
