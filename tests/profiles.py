"""Hypothesis profiles: ``ci`` (the default, used by ``make test``) and ``long``.

``ci`` is derandomized: the same examples on every run, so ``make test`` cannot fail by chance
and a failure there is reproduced by running it again. ``long`` (``HYPOTHESIS_PROFILE=long``,
used by ``make test-all``) draws fresh random examples each run, and :data:`LONG_FACTOR` times as
many, to find what the fixed examples miss; it prints the reproduction blob of a failure like
``ci`` does.

A property that sets its own number of examples sizes it for ``make test`` through
:func:`examples`, so that ``make test-all`` still searches longer (an explicit
``max_examples`` overrides the profile's).

No health check is suppressed here: strategies are sized so that none trips (a test that draws
too much data is fixed by drawing less, see ``tests.test_classify.attendance``).
"""

from __future__ import annotations

import os
from typing import Final

from hypothesis import settings

PROFILE: Final = os.environ.get("HYPOTHESIS_PROFILE", "ci")
LONG_FACTOR: Final = 5
CI_EXAMPLES: Final = 100  # Hypothesis' own default

settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, derandomize=True, deadline=None, print_blob=True
)
settings.register_profile(
    "long", max_examples=CI_EXAMPLES * LONG_FACTOR, deadline=None, print_blob=True
)
settings.load_profile(PROFILE)


def examples(count: int) -> int:
    """``count`` examples in ``make test``; :data:`LONG_FACTOR` times as many in ``long``."""
    return count * LONG_FACTOR if PROFILE == "long" else count
