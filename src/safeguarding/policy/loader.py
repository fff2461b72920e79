"""Reading and validating policy files (TOML).

Validation collects *every* problem before failing, each with its place in the file (``rules[2].when.
recipient_band``) and what would be accepted, because the person fixing it is an operator editing a
file, and one round trip per typo is a bad afternoon. Unknown keys are errors (fail closed): a misspelt
condition must never turn into a rule that silently matches nothing.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from safeguarding.errors import PolicyError
from safeguarding.policy.conditions import compile_when
from safeguarding.policy.model import Action, AlertSettings, NightSettings, Notice, Rule, Verdict
from safeguarding.policy.policy import DataRule, Policy
from safeguarding.signals.catalog import BUILTIN_SIGNALS
from safeguarding.signals.config import parse_signal_config

SCHEMA_VERSION = 1
DEFAULT_POLICY_RESOURCE = "default.toml"
_TOP = {"schema", "policy", "alerts", "night", "signals", "rules"}
_POLICY = {"id", "version", "description", "default_decision"}
_RULE = {"id", "description", "actions", "decision", "notice", "reason", "when", "enabled"}
_ALERTS = {
    "account_risk": (float, 0.0, 1.0),
    "account_risk_rearm": (float, 0.0, 1.0),
    "blocked_pattern_count": (int, 1, 10_000),
    "blocked_pattern_window_hours": (int, 1, 24 * 90),
    "grooming_risk": (float, 0.0, 1.0),
    "child_report_risk": (float, 0.0, 1.0),
}


def _unknown(keys: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for k in keys:
        if k not in allowed:
            problems.append(f"{where}{k}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _choice(
    value: Any, enum: type[Verdict] | type[Action] | type[Notice], where: str, problems: list[str]
) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        problems.append(f"{where}: {value!r} is not one of: {allowed}")
        return None


def parse_policy(text: str | bytes, *, source: str = "<memory>") -> Policy:
    """Parse and validate a policy document; raises :class:`PolicyError` listing every problem."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    digest = hashlib.sha256(data).hexdigest()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError([f"not valid TOML: {exc}"], path=source) from None
    problems: list[str] = []
    _unknown(raw, _TOP, "", problems)
    if raw.get("schema") != SCHEMA_VERSION:
        problems.append(f"schema: must be {SCHEMA_VERSION} (got {raw.get('schema')!r})")

    head = raw.get("policy")
    if not isinstance(head, Mapping):
        problems.append("policy: missing table [policy] with id and version")
        head = {}
    _unknown(head, _POLICY, "policy.", problems)
    pid, version = head.get("id"), head.get("version")
    for key, val in (("id", pid), ("version", version)):
        if not isinstance(val, str) or not val.strip():
            problems.append(f"policy.{key}: required, a non-empty string")
    default = _choice(head.get("default_decision", "allow"), Verdict, "policy.default_decision", problems)

    alerts = _parse_alerts(raw.get("alerts", {}), problems)
    night = _parse_night(raw.get("night", {}), problems)
    signals_raw = raw.get("signals", {})
    if not isinstance(signals_raw, Mapping):
        problems.append("signals: must be a table")
        signals_raw = {}
    signals = parse_signal_config(signals_raw, problems)
    signal_names = frozenset(s.name for s in BUILTIN_SIGNALS)

    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        problems.append("rules: must be an array of tables ([[rules]])")
        rules_raw = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(rules_raw):
        rule = _parse_rule(r, f"rules[{i}]", problems, signal_names)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(f"rules[{i}].id: duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        if r.get("enabled", True):
            rules.append(rule)
    if problems:
        raise PolicyError(problems, path=source)
    return Policy(
        id=str(pid),
        version=str(version),
        description=str(head.get("description", "")),
        rules=tuple(rules),
        default_verdict=default,
        digest=digest,
        source=source,
        alerts=alerts,
        night=night,
        signals=signals,
    )


def _parse_rule(r: Any, where: str, problems: list[str], signal_names: frozenset[str]) -> DataRule | None:
    if not isinstance(r, Mapping):
        problems.append(f"{where}: must be a table")
        return None
    before = len(problems)
    _unknown(r, _RULE, f"{where}.", problems)
    rid = r.get("id")
    if not isinstance(rid, str) or not rid.strip():
        problems.append(f"{where}.id: required, a non-empty string")
        rid = f"<{where}>"
    where = f"{where} ({rid})"
    acts_raw = r.get("actions")
    actions: set[Action] = set()
    if not isinstance(acts_raw, list) or not acts_raw:
        problems.append(
            f"{where}.actions: required, a non-empty list of: {', '.join(a.value for a in Action)}"
        )
    else:
        for a in acts_raw:
            act = _choice(a, Action, f"{where}.actions", problems)
            if act is not None:
                actions.add(act)
    verdict = _choice(r.get("decision"), Verdict, f"{where}.decision", problems)
    notice = None
    if "notice" in r:
        notice = _choice(r["notice"], Notice, f"{where}.notice", problems)
        if verdict is not None and verdict is not Verdict.ALLOW_WITH_NOTICE:
            problems.append(f"{where}.notice: only an 'allow_with_notice' rule carries a notice")
    elif verdict is Verdict.ALLOW_WITH_NOTICE:
        notice = Notice.SAFETY_NOTICE
    reason = r.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(f"{where}.reason: required, a sentence a moderator or parent can read")
    if "enabled" in r and not isinstance(r["enabled"], bool):
        problems.append(f"{where}.enabled: must be true or false")
    when_raw = r.get("when", {})
    if not isinstance(when_raw, Mapping):
        problems.append(f"{where}.when: must be a table of conditions")
        when_raw = {}
    when = compile_when(when_raw, f"{where}.when", problems, signal_names)
    if len(problems) > before or verdict is None:
        return None
    return DataRule(
        id=str(rid),
        actions=frozenset(actions),
        verdict=verdict,
        reason=str(reason),
        when=when,
        notice=notice,
        description=str(r.get("description", "")),
    )


def _parse_alerts(raw: Any, problems: list[str]) -> AlertSettings:
    if not isinstance(raw, Mapping):
        problems.append("alerts: must be a table")
        return AlertSettings()
    out = AlertSettings()
    for k, v in raw.items():
        spec = _ALERTS.get(k)
        if spec is None:
            problems.append(f"alerts.{k}: unknown key (allowed: {', '.join(sorted(_ALERTS))})")
            continue
        kind, lo, hi = spec
        ok = not isinstance(v, bool) and (isinstance(v, int) if kind is int else isinstance(v, int | float))
        if not ok or not lo <= v <= hi:
            what = "a whole number" if kind is int else "a number"
            problems.append(f"alerts.{k}: must be {what} from {lo} to {hi} (got {v!r})")
            continue
        out = replace(out, **{k: kind(v)})
    if out.account_risk_rearm > out.account_risk:
        problems.append("alerts.account_risk_rearm: must not be above alerts.account_risk")
    return out


def _parse_night(raw: Any, problems: list[str]) -> NightSettings:
    if not isinstance(raw, Mapping):
        problems.append("night: must be a table")
        return NightSettings()
    out = NightSettings()
    for k, v in raw.items():
        if k not in ("start_hour", "end_hour"):
            problems.append(f"night.{k}: unknown key (allowed: end_hour, start_hour)")
        elif isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 23:
            problems.append(f"night.{k}: must be an hour from 0 to 23 (got {v!r})")
        else:
            out = replace(out, **{k: v})
    return out


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file, or the shipped default when ``path`` is None. Raises :class:`PolicyError`."""
    if path is None:
        data = resources.files("safeguarding.policy").joinpath(DEFAULT_POLICY_RESOURCE).read_bytes()
        return parse_policy(data, source="default.toml")
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise PolicyError([f"cannot read the file: {exc.strerror or exc}"], path=str(p)) from None
    return parse_policy(data, source=str(p))


def default_policy() -> Policy:
    """The shipped default policy (``safeguarding/policy/default.toml``)."""
    return load_policy(None)
