"""Loads the Hypothesis profile (:mod:`tests.profiles`) before any test module is collected."""

from __future__ import annotations

from tests import profiles  # noqa: F401  (registers and loads the profile)
