"""``python -m safeguarding.synth``: see :func:`safeguarding.synth.main`."""

import sys

from safeguarding.synth import main

sys.exit(main())
