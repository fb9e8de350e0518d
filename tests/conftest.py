"""Hypothesis profiles: ``ci`` (the default, used by ``make test``) and ``long``.

``ci`` is derandomized: the same examples on every run, so ``make test`` cannot fail by chance
and a failure there is reproduced by running it again. ``long`` (``HYPOTHESIS_PROFILE=long``,
used by ``make test-all``) draws fresh random examples each run and more of them, to find what
the fixed examples miss; it prints the reproduction blob of a failure like ``ci`` does.

No health check is suppressed here: strategies are sized so that none trips (a test that draws
too much data is fixed by drawing less, see ``tests.test_classify.attendance``).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=500, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
