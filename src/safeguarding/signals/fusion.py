"""Fusing signals into one account risk that explains itself.

Noisy-OR: ``risk = 1 - prod(1 - weight_i * score_i)``. Each signal is read as an independent chance
that the account is a risk; the result stays in [0, 1], rises with every piece of evidence and never
lets one weak signal dominate. It is also easy to explain: the reasons list each signal's share, largest
first. Account age is an amplifier: it joins the product only when some other signal already speaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from safeguarding.signals.catalog import BUILTIN_SIGNALS, AccountFacts, Signal, SignalValue, read
from safeguarding.signals.config import SignalConfig, SignalSettings
from safeguarding.signals.windows import WindowView
from safeguarding.types import Reason

AMPLIFIERS = frozenset({"new_account"})


@dataclass(frozen=True, slots=True)
class AccountRisk:
    """An account's fused risk with every signal's reading (``signals``) and the reasons that matter."""

    account: str
    risk: float
    signals: tuple[SignalValue, ...]
    reasons: tuple[Reason, ...]

    def value(self, name: str) -> float:
        for s in self.signals:
            if s.name == name:
                return s.value
        raise KeyError(name)

    def as_mapping(self) -> dict[str, float]:
        return {s.name: s.value for s in self.signals}


def fuse(account: str, values: Sequence[SignalValue]) -> AccountRisk:
    """Combine signal readings into an :class:`AccountRisk` (pure; order of ``values`` is kept)."""
    evidence = [v for v in values if v.name not in AMPLIFIERS and v.contribution > 0]
    active = list(evidence)
    if evidence:
        active += [v for v in values if v.name in AMPLIFIERS and v.contribution > 0]
    keep = 1.0
    for v in active:
        keep *= 1.0 - v.contribution
    risk = round(1.0 - keep, 6)
    ranked = sorted(active, key=lambda v: (-v.contribution, v.name))
    reasons = tuple(
        Reason(code=f"signal.{v.name}", message=v.reason, weight=round(v.contribution, 6)) for v in ranked
    )
    return AccountRisk(account=account, risk=risk, signals=tuple(values), reasons=reasons)


class RiskModel:
    """The enabled signals of a configuration, resolved once: fast risk for decisions, full for people."""

    def __init__(self, config: SignalConfig, signals: Sequence[Signal] = BUILTIN_SIGNALS) -> None:
        self.config = config
        self.signals = tuple(signals)
        self._active: list[tuple[Signal, SignalSettings, bool]] = []
        for sig in self.signals:
            settings = config.signals.get(sig.name)
            if settings is not None and settings.enabled:
                self._active.append((sig, settings, sig.name in AMPLIFIERS))

    def quick(self, view: WindowView, now_bucket: int, facts: AccountFacts) -> tuple[float, dict[str, float]]:
        """The fused risk and every signal's raw value, without explanations: the hot path of decisions.

        Always equal to :meth:`assess`'s ``risk`` and ``as_mapping()`` for the same inputs.
        """
        values: dict[str, float] = {}
        keep = 1.0
        amplify = 1.0
        evidence = False
        for sig, settings, amplifier in self._active:
            value = sig.measure(view, now_bucket, settings, facts)
            values[sig.name] = value
            c = settings.weight * sig.score(value, settings)
            if c > 0:
                if amplifier:
                    amplify *= 1.0 - c
                else:
                    evidence = True
                    keep *= 1.0 - c
        if evidence:
            keep *= amplify
        return round(1.0 - keep, 6), values

    def assess(self, account: str, view: WindowView, now_bucket: int, facts: AccountFacts) -> AccountRisk:
        """Every enabled signal measured, scored and explained, then fused."""
        return fuse(
            account, [read(sig, view, now_bucket, settings, facts) for sig, settings, _ in self._active]
        )


def fused_risk(
    view: WindowView,
    now_bucket: int,
    facts: AccountFacts,
    config: SignalConfig,
    signals: Sequence[Signal] = BUILTIN_SIGNALS,
) -> tuple[float, dict[str, float]]:
    """:meth:`RiskModel.quick` for a one-off call."""
    return RiskModel(config, signals).quick(view, now_bucket, facts)


def assess_account(
    account: str,
    view: WindowView,
    now_bucket: int,
    facts: AccountFacts,
    config: SignalConfig,
    signals: Sequence[Signal] = BUILTIN_SIGNALS,
) -> AccountRisk:
    """Read every enabled signal for ``account`` at ``now_bucket`` and fuse them, with reasons."""
    return RiskModel(config, signals).assess(account, view, now_bucket, facts)
