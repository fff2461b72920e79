"""Data loaders: the ``scan`` JSONL contract, the official PAN12 XML, the training corpora, splits.

Nothing is read at import time; every loader streams its input and validates it as it goes, raising
:class:`~safeguarding.errors.InputError` with the file, the line and the problem (never the text).
"""

from safeguarding.detection.data.conversations import read_jsonl
from safeguarding.detection.data.corpora import (
    SOURCES,
    SourceInfo,
    interleave_streams,
    load_chitchat,
    load_corpus,
    load_generic,
    load_overheard,
    load_pj_pairs,
    load_pj_streams,
    load_stage_items,
    pseudonymise_overheard,
    window_records,
    windows,
)
from safeguarding.detection.data.pan12 import (
    EMAIL_TOKEN,
    UNKNOWN_AUTHOR,
    load_pan12_labelled,
    load_vtpan_segments,
    parse_segment,
    read_pan12,
    read_predator_ids,
)
from safeguarding.detection.data.records import LabelledConversation, StageItem
from safeguarding.detection.data.splits import DEFAULT_SALT, split_of, split_records

__all__ = [
    "DEFAULT_SALT",
    "EMAIL_TOKEN",
    "SOURCES",
    "UNKNOWN_AUTHOR",
    "LabelledConversation",
    "SourceInfo",
    "StageItem",
    "interleave_streams",
    "load_chitchat",
    "load_corpus",
    "load_generic",
    "load_overheard",
    "load_pan12_labelled",
    "load_pj_pairs",
    "load_pj_streams",
    "load_stage_items",
    "load_vtpan_segments",
    "parse_segment",
    "pseudonymise_overheard",
    "read_jsonl",
    "read_pan12",
    "read_predator_ids",
    "split_of",
    "split_records",
    "window_records",
    "windows",
]
