"""Metadata risk signals: sliding-window counters per account, fused into an explainable account risk.

Signals never need message text (one optional input, off-platform requests, uses it when present), so
they keep working under end-to-end encryption. See ``docs/signals.md`` for every signal's meaning.
"""

from safeguarding.signals.catalog import (
    BUILTIN_SIGNALS,
    AccountFacts,
    Counter,
    CountSignal,
    Signal,
    SignalValue,
    read,
    saturating,
)
from safeguarding.signals.config import (
    DEFAULT_SIGNAL_SETTINGS,
    SignalConfig,
    SignalSettings,
    parse_signal_config,
)
from safeguarding.signals.fusion import AccountRisk, RiskModel, assess_account, fuse, fused_risk
from safeguarding.signals.text import asks_to_move_off_platform
from safeguarding.signals.windows import (
    BUCKET_SECONDS,
    AccountWindows,
    WindowView,
    bucket_of,
    window_start,
)

__all__ = [
    "BUCKET_SECONDS",
    "BUILTIN_SIGNALS",
    "DEFAULT_SIGNAL_SETTINGS",
    "AccountFacts",
    "AccountRisk",
    "AccountWindows",
    "CountSignal",
    "Counter",
    "RiskModel",
    "Signal",
    "SignalConfig",
    "SignalSettings",
    "SignalValue",
    "WindowView",
    "asks_to_move_off_platform",
    "assess_account",
    "bucket_of",
    "fuse",
    "fused_risk",
    "parse_signal_config",
    "read",
    "saturating",
    "window_start",
]
