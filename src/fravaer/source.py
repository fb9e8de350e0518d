"""How to read one municipality's exports: the options of ``--source source.toml`` (docs/ingest.md).

Every field has a command-line flag too; a flag given on the command line wins over the file.
Everything defaults to detection, and detection never guesses silently: what was detected is
reported by ``fravaer inspect``, and an ambiguous file is refused with a hint naming the option.

These are plain data, below both :mod:`fravaer.ingest` (which reads by them) and
:mod:`fravaer.config` (whose ``report.toml`` may hold them inline); ``fravaer.ingest.source``
still names them for the library's users.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fravaer.calendar import DANISH, check_holidays

Encoding = Literal["auto", "utf-8", "cp1252", "latin-1"]
Separator = Literal["auto", ",", ";", "\t", "¤"]
DateFormat = Literal["auto", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]
Shape = Literal["auto", "register", "lesson", "absence_only", "hours"]
Category = Literal["present", "illness", "leave", "unlawful"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalCode(_Strict):
    """A school's own code: which category it is, and what share of the day it counts.

    ``fraction`` None means the row's own fraction (or the whole day); F (late) might be
    ``{ category = "unlawful", fraction = 0.1 }`` or ``{ category = "present" }``.
    """

    category: Category
    fraction: Decimal | None = Field(default=None, ge=0, le=1, decimal_places=3)


class Calendar(_Strict):
    """School days for absence-only exports: a file of dates (per school), or generated ones.

    ``file``: CSV with ``date`` and optionally ``school_id`` (aliases apply). Otherwise
    weekdays from ``first`` to ``last`` minus the public holidays (``holidays``, Danish by
    default) and the ``breaks``
    (ISO weeks, e.g. ``[42, 52, 1, 7]``, or date ranges ``"2024-03-25:2024-03-27"``).
    """

    file: Path | None = None
    first: str | None = None
    last: str | None = None
    breaks: tuple[int | str, ...] = ()
    holidays: str = DANISH
    """The public holidays a generated calendar leaves out: ``"DK"`` (and Grundlovsdag), another
    country code of the ``holidays`` package, or ``"none"`` (docs/shapes.md)."""

    @field_validator("holidays")
    @classmethod
    def _known_holidays(cls, value: str) -> str:
        return check_holidays(value)


class SourceOptions(_Strict):
    """Options for reading exports; the content of a ``source.toml``."""

    encoding: Encoding = "auto"
    separator: Separator = "auto"
    date_format: DateFormat = "auto"
    shape: Shape = "auto"
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    """The 1-based line (CSV) or row (Excel) of the header; None finds it among the first 20
    (docs/ingest.md#the-header-row)."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Explicit header mapping, canonical name -> header in the file; overrides the aliases."""
    codes: dict[str, LocalCode] = Field(default_factory=dict)
    """Local category codes, code -> meaning; added to (and overriding) the built-in table."""
    calendar: Calendar | None = None
    roster: Path | None = None
    """Absence-only exports: a CSV of ``pupil_id, school_id, first_day, last_day`` enrolments."""
    valid_absence: Literal["illness", "leave"] = "leave"
    """Hours extracts with total and unlawful hours only (Uddata+'s FGU extract, Z8503): the
    category of the absent hours that are not unlawful (docs/shapes.md#exports-in-hours)."""

    @property
    def holiday_country(self) -> str:
        """The public holidays that are never school days for these exports: the calendar's
        ``holidays`` (``"DK"`` unless it names another country or ``"none"``). ``check`` flags
        rows on them and the as-of date's warning counts pupils seen only on them
        (docs/shapes.md#absence-only-exports).

        >>> abroad = SourceOptions(calendar=Calendar(holidays="none"))
        >>> SourceOptions().holiday_country, abroad.holiday_country
        ('DK', 'none')
        """
        return self.calendar.holidays if self.calendar is not None else DANISH
