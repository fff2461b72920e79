"""Process-wide tuning for a long-running service process (``serve`` and its worker processes only).

A library must not change the garbage collector of the process that embeds it, so ``create_app`` does
none of this; :func:`tune_process` is called where Safeguarding owns the process.

- **Garbage collector.** The engine keeps large, long-lived caches (accounts, edges, signal windows,
  conversation summaries). CPython's full collections walk all of them: measured 20-100 ms pauses every
  few seconds under load, which alone broke the 10 ms p99 goal for contact decisions. So: objects that
  have survived are moved to the permanent generation (``gc.freeze``) at start and every second, and
  collections run less often (thresholds 10,000 / 50 / 1,000 instead of 700 / 10 / 10). Measured on
  the 2-core machine at 500 decisions/s: p99 18-40 ms before, 5-6 ms after. Reference counting still
  frees everything that is dropped (the caches hold no cycles); only cyclic garbage that was alive at a
  freeze is kept.
- **GIL switch interval** 1 ms instead of 5 ms: while a batch is processed in a worker thread, the
  event loop gets the interpreter back sooner, so a decision arriving mid-batch waits less.
"""

from __future__ import annotations

import gc
import sys
import threading
import time

FREEZE_EVERY_SECONDS = 1.0
SWITCH_INTERVAL_SECONDS = 0.001
GC_THRESHOLDS = (10_000, 50, 1_000)
_started = False


def tune_process(freeze_every: float = FREEZE_EVERY_SECONDS) -> None:
    global _started
    if _started:
        return
    _started = True
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    gc.set_threshold(*GC_THRESHOLDS)
    gc.collect()
    gc.freeze()

    def freezer() -> None:
        while True:
            time.sleep(freeze_every)
            gc.freeze()

    threading.Thread(target=freezer, name="safeguarding-gc", daemon=True).start()
