"""The columns of an export in hours and the headers that name them (docs/shapes.md).

Not canonical columns: an hours extract's scheduled and absent hours per pupil and day, which
:mod:`fravaer.ingest.hours` turns into day fractions. They live here, apart from the shape, so
that the header table (:mod:`fravaer.ingest.headers`) can name them without importing the
readers. The vendor's names (Uddata+'s extracts Z8086 and Z8503) are from its public
description of the extracts; the headers are compared as every header is
(:func:`fravaer.ingest.headers.header_key`: no case, spaces, hyphens, underscores or dots, and
æ, ø, å spelt either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

SCHEDULED_HOURS: Final = "scheduled_hours"
"""The hours the pupil was scheduled for that day (``Timer``)."""
ABSENT_HOURS: Final = "absent_hours"
"""The hours of that day the pupil missed under the line's code (``Fravær``, Z8086)."""
UNLAWFUL_HOURS: Final = "unlawful_hours"
"""The hours of that day missed without a valid reason (``Ugyldigt_fraver``, Z8503)."""
TOTAL_ABSENT_HOURS: Final = "total_absent_hours"
"""All the hours of that day the pupil missed (``Fraver_ialt``, Z8503)."""

HOURS_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    SCHEDULED_HOURS: ("scheduled_hours", "timer", "skemalagte timer", "planlagte timer"),
    ABSENT_HOURS: ("absent_hours", "fravær", "fraværstimer", "fravær timer"),
    UNLAWFUL_HOURS: ("unlawful_hours", "ugyldigt_fraver", "ugyldigt fravær"),
    TOTAL_ABSENT_HOURS: ("total_absent_hours", "fraver_ialt", "fravær i alt"),
}
"""Hours column -> the headers that mean it, as written in exports (before folding)."""
