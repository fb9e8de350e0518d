"""Guideline policies as data: pydantic models for TOML documents, plus the bundled ones (SPEC §4).

A policy names *measures* (what is counted, over which window), and *steps* whose conditions are
trees of inclusive thresholds on those measures combined with ``all`` / ``any``. The evaluation
lives in :mod:`fravaer.classify`, the reading of files in :mod:`fravaer.ingest.policy`; this
module only says what a valid policy is.

The national quarter rule for unlawful absence is law rather than a municipal choice, so it is
the :data:`NATIONAL_QUARTER_RULE` constant, evaluated beside every policy.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from fravaer import schema
from fravaer.errors import PolicyError

DEFAULT_POLICY = "aalborg-2023"

AbsenceCategory = Literal["illness", "leave", "unlawful"]
Lang = Literal["da", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A user-facing text in Danish and English."""

    da: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.da if lang == "da" else self.en


class TextList(_Strict):
    """A list of user-facing texts (e.g. actions) in Danish and English."""

    da: tuple[str, ...] = Field(min_length=1)
    en: tuple[str, ...] = Field(min_length=1)

    def __call__(self, lang: Lang) -> tuple[str, ...]:
        return self.da if lang == "da" else self.en


class Window(_Strict):
    """The latest ``school_days`` school days of the pupil, up to and including the as-of date."""

    school_days: int = Field(gt=0, le=1000)


class Measure(_Strict):
    """What a rule measures.

    ``percent``: 100 x absent days / school days in the window.
    ``days``: absent days (fractions of partial days included) in the window.
    """

    kind: Literal["percent", "days"]
    window: Window
    categories: tuple[AbsenceCategory, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_categories(self) -> Self:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must not repeat")
        return self


class Threshold(_Strict):
    """Inclusive: holds when the measure is ``at_least`` or more (compared exactly).

    At most three decimals, so that the exact integer comparison cannot overflow.
    """

    measure: str
    at_least: Decimal = Field(ge=0, le=1000, decimal_places=3)

    @field_validator("at_least", mode="before")
    @classmethod
    def _a_number(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise ValueError("must be a number")  # TOML "10" (a string) is a mistake
        return Decimal(str(value)) if isinstance(value, float) else value


class AllOf(_Strict):
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(_Strict):
    any: tuple[Condition, ...] = Field(min_length=1)


def _condition_kind(value: object) -> str:
    """Which kind of condition a TOML table is, by its keys, so errors name only that kind."""
    keys = value.keys() if isinstance(value, dict) else vars(value).keys()
    return "all" if "all" in keys else "any" if "any" in keys else "threshold"


Condition = Annotated[
    Annotated[Threshold, Tag("threshold")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")],
    Discriminator(_condition_kind),
]
_CONDITION_TAGS = {"threshold"}  # left out of error paths: `all` and `any` are real keys


class Step(_Strict):
    """A guideline step: when it applies, who acts, and the minimum actions."""

    step: int = Field(ge=1, le=9)
    when: Condition
    responsible: Text
    actions: TextList


class Policy(_Strict):
    """A municipality's guideline for worrying absence."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str
    title: Text
    source: str
    effective_from: date
    min_school_days: int = Field(ge=1)
    primary_measure: str
    measures: dict[str, Measure] = Field(min_length=1)
    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.primary_measure not in self.measures:
            raise ValueError(f"primary_measure '{self.primary_measure}' is not among the measures")
        numbers = [s.step for s in self.steps]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("steps must be numbered 1, 2, 3, ... in order")
        for step in self.steps:
            for threshold in thresholds(step.when):
                if threshold.measure not in self.measures:
                    raise ValueError(f"step {step.step} uses unknown measure '{threshold.measure}'")
        return self

    @property
    def primary(self) -> Measure:
        return self.measures[self.primary_measure]

    def step(self, number: int) -> Step:
        return self.steps[number - 1]


def thresholds(condition: Condition) -> list[Threshold]:
    """All thresholds of a condition tree, depth first."""
    if isinstance(condition, Threshold):
        return [condition]
    children = condition.all if isinstance(condition, AllOf) else condition.any
    return [t for child in children for t in thresholds(child)]


class QuarterRule(_Strict):
    """Unlawful absence in the calendar quarter containing the as-of date, to date."""

    categories: tuple[AbsenceCategory, ...]
    warn_at: Decimal
    notify_at: Decimal


NATIONAL_QUARTER_RULE = QuarterRule(
    categories=(schema.UNLAWFUL,), warn_at=Decimal(10), notify_at=Decimal(15)
)
"""Since 2019/20: parents are warned at 10 % unlawful absence in a quarter; at 15 % the school
leader notifies the municipality, which may stop the child benefit for that quarter."""


def _is_tag(path: list[str], i: int) -> bool:
    """Discriminator tags in pydantic's error paths: `threshold`, and `all`/`any` doubled."""
    return path[i] in _CONDITION_TAGS or (
        path[i] in ("all", "any") and i + 1 < len(path) and path[i + 1] == path[i]
    )


def parse_policy(text: str, *, source: str) -> Policy:
    """Validate a policy TOML document; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = [str(part) for part in first["loc"]]
        field = ".".join(p for i, p in enumerate(path) if not _is_tag(path, i))
        where = f"field '{field}': " if field else ""
        problem = first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PolicyError(f"{source}: {where}{problem}{more}") from None
