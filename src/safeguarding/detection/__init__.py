"""Grooming detection: streaming, explainable, calibrated.

>>> from safeguarding.detection import load_detector
>>> from safeguarding import Message
>>> det = load_detector()
>>> state = det.new_state("c1")
>>> det.update(state, Message("a1", "hi, how was school?")).flagged
False
"""

from safeguarding.detection.loading import bundled_model_dir, load_detector
from safeguarding.detection.state import ConversationState
from safeguarding.detection.streaming import Detector, DetectorConfig

__all__ = ["ConversationState", "Detector", "DetectorConfig", "bundled_model_dir", "load_detector"]
