"""Build hook for the optional C accelerator; the project's metadata lives in pyproject.toml.

``safeguarding.detection._speedups`` computes the text half of the detector's score in C (see its source
for what it matches). It is optional: without a C compiler, or with ``SAFEGUARDING_PURE_PYTHON=1`` at
install time, the package installs and scores in pure Python with bit-identical results, only slower.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

PURE = os.environ.get("SAFEGUARDING_PURE_PYTHON", "").strip() not in ("", "0")

extensions = (
    []
    if PURE
    else [
        Extension(
            "safeguarding.detection._speedups",
            ["src/safeguarding/detection/_speedups.c"],
            # no fused multiply-add: the sums must round exactly as Python's do
            extra_compile_args=["-O2", "-ffp-contract=off"],
            optional=True,  # a failed build is a warning, and the package stays pure Python
        )
    ]
)

setup(ext_modules=extensions)
