"""Loads the Hypothesis profile (:mod:`tests.profiles`) before any test module is collected."""

from __future__ import annotations

import os

from tests import profiles  # noqa: F401  (registers and loads the profile)

# The tests pin the language themselves: a developer's FRAVAER_LANG must not change what the
# commands print (docs/install.md).
os.environ.pop("FRAVAER_LANG", None)
