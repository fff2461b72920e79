"""Streaming detection: ``update(state, message) -> Assessment`` in O(1) amortised time per message.

The state of a conversation (:mod:`safeguarding.detection.state`) is a compact summary that serialises
to a few hundred bytes, so a service can persist it between messages and resume exactly. Batch scoring
(``Detector.assess``) runs the very same updates.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Protocol

from safeguarding.detection.cues import CUE_STAGES
from safeguarding.detection.features import TextScorer, normalise
from safeguarding.detection.model import (
    N_DENSE,
    FastScorer,
    LinearWeights,
    is_adult_age,
    is_minor_age,
    message_cues,
)
from safeguarding.detection.state import (
    NOT_ELIGIBLE,
    AuthorState,
    ConversationState,
    decode_state,
    encode_state,
)
from safeguarding.types import (
    STAGES,
    Assessment,
    AuthorRisk,
    Conversation,
    DrivingMessage,
    Message,
    Reason,
    Stage,
)

log = logging.getLogger(__name__)

_SHORT = 24
_SHORT_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class DetectorConfig:
    """Decision rules around the model. ``threshold`` is chosen on the dev split for F0.5.

    Minimum evidence: an author is only flagged once he has sent ``min_messages`` messages of which at
    least ``min_support`` carried a grooming cue or pushed his score up by ``support_margin``, so one
    ambiguous line never raises an alert on its own; and his risk must stay over the threshold for
    ``persistence`` of his consecutive messages, so a brief fluctuation early in a long chat does not.
    """

    threshold: float = 0.5
    min_messages: int = 3
    min_support: int = 2
    persistence: int = 1
    support_margin: float = 1.0
    evidence_k: int = 5
    max_authors: int = 64


_NOBODY = AuthorState(risk=-1.0)
"""Sentinel for "no author yet" in the hot loop of ``_assessment`` (never stored in a state)."""

_STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
_CUE_STAGE_ITEMS = tuple((int(c), _STAGE_INDEX[s]) for c, s in CUE_STAGES.items())


_CUE_STAGE_CACHE: dict[int, int] = {}


def cue_stage_bits(cue_mask: int) -> int:
    cached = _CUE_STAGE_CACHE.get(cue_mask)
    if cached is None:
        cached = _CUE_STAGE_CACHE[cue_mask] = _cue_stage_bits(cue_mask)
    return cached


def _cue_stage_bits(cue_mask: int) -> int:
    bits = 0
    for cbit, sidx in _CUE_STAGE_ITEMS:
        if cue_mask & cbit:
            bits |= 1 << sidx
    return bits


_STAGES_OF_BITS: dict[int, tuple[Stage, ...]] = {}


def stages_from_bits(bits: int) -> tuple[Stage, ...]:
    cached = _STAGES_OF_BITS.get(bits)
    if cached is None:
        cached = _STAGES_OF_BITS[bits] = _stages_from_bits(bits)
    return cached


def _stages_from_bits(bits: int) -> tuple[Stage, ...]:
    return tuple(s for i, s in enumerate(STAGES) if bits & (1 << i))


class StageTaggerLike(Protocol):
    """What the detector needs from a stage tagger (see :mod:`safeguarding.detection.stages`)."""

    def tag(self, text: str, cues: int | None = None) -> tuple[Stage, ...]: ...


class Detector:
    """The streaming grooming detector: a trained linear model plus decision rules.

    >>> det = load_detector()                      # doctest: +SKIP
    >>> state = det.new_state("c1")                # doctest: +SKIP
    >>> det.update(state, Message("a1", "hey")).risk  # doctest: +SKIP
    """

    def __init__(
        self,
        weights: LinearWeights,
        config: DetectorConfig,
        *,
        version: str,
        tagger: StageTaggerLike | None = None,
    ) -> None:
        if weights.dense.shape[0] != N_DENSE:
            raise ValueError(f"dense weights have {weights.dense.shape[0]} entries, expected {N_DENSE}")
        self.weights = weights
        self.config = config
        self.version = version
        self.tagger = tagger
        self._text = TextScorer(weights.text)
        self._fast = FastScorer(weights)
        self._short_cache: dict[str, tuple[tuple[int, int | None, bool], float]] = {}

    @property
    def threshold(self) -> float:
        return self.config.threshold

    @property
    def accelerated(self) -> bool:
        """Whether the text score runs in the C accelerator (same results; see ``features.TextScorer``)."""
        return self._text.native

    # -- state -------------------------------------------------------------------------------------
    def new_state(self, conversation_id: str) -> ConversationState:
        return ConversationState(conversation=conversation_id, model_version=self.version)

    def dump_state(self, state: ConversationState) -> bytes:
        return encode_state(state)

    def load_state(self, blob: bytes) -> ConversationState:
        """A stored state, ready to continue with this detector (rebuilt when another model wrote it)."""
        state = decode_state(blob)
        if state.model_version == self.version:
            # Resume exactly: running sums and each author's last score as they were (an author who has
            # not written since is not rescored in streaming either).
            for s in state.authors.values():
                s.risk = self.weights.calibrate(s.margin)
        else:
            # State from another model: rebuild what derives from the counters and rescore everyone.
            log.info("detector state from model %s rebuilt for %s", state.model_version, self.version)
            state.model_version = self.version
            for name, s in state.authors.items():
                self._rebuild_sums(s)
                self._rescore(state, s, name)
        return state

    def _rebuild_sums(self, s: AuthorState) -> None:
        s.lin, s.any_sum, s.i_pm, s.i_sa, s.i_pa, s.i_sm = (
            s.text_sum + self._fast.w_you * s.you_minor,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        )
        for count, (_bit, wr, wa, wpm, wsa, wpa, wsm) in zip(s.cue_counts, self._fast.per_cue, strict=True):
            if count:
                s.lin += wr * count
                s.any_sum += wa
                s.i_pm += wpm * count
                s.i_sa += wsa * count
                s.i_pa += wpa * count
                s.i_sm += wsm * count

    # -- scoring -----------------------------------------------------------------------------------
    def _rescore(self, state: ConversationState, s: AuthorState, author: str) -> None:
        f = self._fast
        pm = pa = False
        for other, o in state.authors.items():
            if other != author:
                pm = pm or o.self_minor
                pa = pa or o.self_adult
        num = s.lin
        if pm:
            num += s.i_pm
        if pa:
            num += s.i_pa
        if s.self_adult:
            num += s.i_sa
        if s.self_minor:
            num += s.i_sm
        margin = (
            f.intercept
            + num / s.n
            + s.any_sum
            + f.w_log * math.log1p(s.n)
            + f.w_stages * f.stages(s.cue_mask)
            + f.w_share * (s.n / state.n)
        )
        if s.self_minor:
            margin += f.w_self_minor
        if s.self_adult:
            margin += f.w_self_adult
        if pm:
            margin += f.w_partner_minor
        if pa:
            margin += f.w_partner_adult
        s.margin = margin
        s.risk = self.weights.calibrate(margin)

    def _read(self, text: str) -> tuple[tuple[int, int | None, bool], float]:
        """(cues, stated age, "you are a minor") and the text score of one message."""
        norm = normalise(text)
        return message_cues(norm), self._text.dot(norm)

    def update(self, state: ConversationState, message: Message) -> Assessment:
        """Add one message to the conversation and return the assessment after it."""
        index = state.n
        state.n += 1
        s = state.authors.get(message.author)
        if s is None:
            if len(state.authors) >= self.config.max_authors:
                self._evict(state)
            s = AuthorState(first=index, cue_counts=[0] * len(self._fast.per_cue))
            state.authors[message.author] = s
        text = message.text
        if len(text) <= _SHORT:
            # Short chat lines repeat a lot ("lol", "ok", "hey"): featurise each distinct one once.
            hit = self._short_cache.get(text)
            if hit is None:
                if len(self._short_cache) >= _SHORT_CACHE_SIZE:
                    self._short_cache.clear()
                hit = self._short_cache[text] = self._read(text)
            (cues, age, you_minor), dot = hit
        else:
            (cues, age, you_minor), dot = self._read(text)
        s.n += 1
        s.text_sum += dot
        s.lin += dot
        cue_contrib = 0.0
        if cues:
            s.cue_mask |= cues
            idxs, wr, wpm, wsa, wpa, wsm = self._fast.of_mask(cues)
            counts = s.cue_counts
            wa = self._fast.any_w
            for i in idxs:
                if not counts[i]:
                    s.any_sum += wa[i]
                counts[i] += 1
            s.lin += wr
            s.i_pm += wpm
            s.i_sa += wsa
            s.i_pa += wpa
            s.i_sm += wsm
            cue_contrib = wr
        context_changed = False
        if is_minor_age(age) and not s.self_minor:
            s.self_minor = context_changed = True
        elif is_adult_age(age) and not s.self_adult:
            s.self_adult = context_changed = True
        if you_minor:
            s.you_minor += 1
            s.lin += self._fast.w_you
        contribution = dot + cue_contrib
        stage_bits = cue_stage_bits(cues)
        if stage_bits or contribution >= self.config.support_margin:
            s.supports += 1
        if context_changed:
            for a, other in state.authors.items():
                self._rescore(state, other, a)
        else:
            self._rescore(state, s, message.author)
        if contribution > 0 and (len(s.top) < self.config.evidence_k or contribution > s.top[-1][0]):
            # The stage tagger labels strong driving messages of an author who is not clearly benign.
            if self.tagger is not None and s.risk >= 0.2 and contribution >= self.config.support_margin:
                for st in self.tagger.tag(message.text, cues):
                    stage_bits |= 1 << _STAGE_INDEX[st]
            s.top.append([contribution, index, cues, stage_bits])
            s.top.sort(key=lambda t: -t[0])
            del s.top[self.config.evidence_k :]
        c = self.config
        recent = s.recent
        recent.append(s.risk if self.has_evidence(s) else NOT_ELIGIBLE)
        if len(recent) > c.persistence:
            del recent[: len(recent) - c.persistence]
        if not s.alerted and len(recent) == c.persistence and min(recent) >= c.threshold:
            s.alerted = True
        return self._assessment(state, index)

    def _evict(self, state: ConversationState) -> None:
        """Forget the least active, lowest-risk author when a group chat has too many participants."""
        victim = min(state.authors, key=lambda a: (state.authors[a].risk, state.authors[a].n))
        if victim != state.suspect:
            del state.authors[victim]
            state.views.pop(victim, None)

    def has_evidence(self, s: AuthorState) -> bool:
        """The minimum-evidence half of the alert rule: enough messages, enough of them supporting."""
        return s.n >= self.config.min_messages and s.supports >= self.config.min_support

    def eligible(self, s: AuthorState) -> bool:
        """Whether an author meets the alert rule now: risk over threshold with minimum evidence."""
        return s.risk >= self.config.threshold and self.has_evidence(s)

    def eligible_author(self, state: ConversationState, threshold: float) -> str | None:
        """The riskiest author who meets the alert rule at ``threshold`` instead of the model's own (the
        engine's policy may set one: ``[alerts] grooming_risk``): minimum evidence, and risk at or over
        ``threshold`` at each of his last ``persistence`` messages, as with the model's own threshold."""
        p = self.config.persistence
        found = [
            (s.risk, a)
            for a, s in state.authors.items()
            if len(s.recent) >= p and min(s.recent[-p:]) >= threshold
        ]
        return max(found)[1] if found else None

    def _assessment(self, state: ConversationState, index: int) -> Assessment:
        if not state.authors:
            return Assessment(
                state.conversation, index, 0.0, False, None, None, (), model_version=self.version
            )
        # One pass for the riskiest author (the first of equals, as max() would) and, until the alert is
        # raised, the authors who met the alert rule. This runs after every message.
        top_author, top = "", _NOBODY
        ready: list[tuple[float, str]] = []
        flagged = state.flagged
        for a, s in state.authors.items():
            if s.risk > top.risk:
                top_author, top = a, s
            if not flagged and s.alerted:
                ready.append((s.risk, a))
        if ready:
            state.flagged = True
            state.alert_at = index
            state.suspect = max(ready)[1]
        risk = top.risk
        if not state.flagged and top.risk < 0.5:
            # Nothing to explain: keep the common case cheap (this runs after every message).
            return Assessment(
                state.conversation, index, risk, False, None, None, (), model_version=self.version
            )
        suspect = state.suspect if state.flagged else top_author
        focus = state.authors.get(suspect) if suspect else None
        if focus is None:
            focus, suspect = top, top_author
        assert suspect is not None
        key = (suspect, state.flagged, focus.cue_mask, tuple([t[1] for t in focus.top]))
        cached = state.explained
        if cached is not None and cached[0] == key:
            _, stages, evidence, reasons = cached
        else:
            stage_bits = cue_stage_bits(focus.cue_mask)
            for t in focus.top:
                stage_bits |= int(t[3])
            stages = stages_from_bits(stage_bits)
            evidence = tuple(
                DrivingMessage(int(t[1]), suspect, round(t[0], 4), stages_from_bits(int(t[3])))
                for t in focus.top
            )
            reasons = self._reasons(state, focus, stages)
            state.explained = (key, stages, evidence, reasons)
        views = state.views
        authors = []
        for a, s in state.authors.items():
            v = views.get(a)
            if v is None or v.n_messages != s.n or v.risk != s.risk:
                v = views[a] = AuthorRisk(a, s.risk, s.n, stages_from_bits(cue_stage_bits(s.cue_mask)))
            authors.append(v)
        return Assessment(
            state.conversation,
            index,
            risk,
            state.flagged,
            state.alert_at,
            suspect,
            stages,
            evidence,
            tuple(authors),
            reasons,
            self.version,
        )

    def _reasons(
        self, state: ConversationState, s: AuthorState, stages: tuple[Stage, ...]
    ) -> tuple[Reason, ...]:
        out: list[Reason] = []
        if state.flagged:
            out.append(
                Reason(
                    "alert",
                    f"risk reached the alert threshold {self.config.threshold:.2f} with enough supporting "
                    f"messages, after message {state.alert_at}",
                )
            )
        for st in stages:
            out.append(Reason(f"stage:{st.value}", f"messages show the grooming stage '{st.value}'"))
        if not stages:
            out.append(
                Reason(
                    "wording",
                    "the wording of the driving messages resembles grooming conversations the model was "
                    "trained on, but no specific grooming stage was recognised: read them in context",
                )
            )
        return tuple(out)

    # -- batch ---------------------------------------------------------------------------------------
    def assess(self, conversation: Conversation) -> Assessment:
        """Score a whole conversation with the streaming code; the last assessment is returned."""
        state = self.new_state(conversation.id)
        result = Assessment(conversation.id, -1, 0.0, False, None, None, (), model_version=self.version)
        for m in conversation.messages:
            result = self.update(state, m)
        return result
