"""Guideline policies as data: pydantic models for TOML documents (docs/policies.md).

A policy names *rules* — what is measured (an absence percentage, a count of absent days or the
longest run of consecutive absent school days), over which window (the latest N school days, the
latest N weeks, the calendar quarter or the school year) and counting which categories — and
*steps*, whose conditions compare rules with inclusive thresholds, combined with ``all`` / ``any``
to any depth. The evaluation lives in :mod:`fravaer.classify`, the reading of files in
:mod:`fravaer.ingest.policy`; this module only says what a valid policy is.

The national rule on unlawful absence per quarter is the bundled policy ``national-unlawful``,
evaluated beside the municipal one; its steps carry the labels ``warn_parents`` and
``notify_municipality``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from fravaer.errors import PolicyError
from fravaer.schema import hostile_text_problem
from fravaer.tomltext import line_of, toml_data

DEFAULT_POLICY = "aalborg-2023"
NATIONAL_POLICY = "national-unlawful"

AbsenceCategory = Literal["illness", "leave", "unlawful"]
Lang = Literal["da", "en"]
MeasureKind = Literal["percent", "days", "consecutive_days"]
Period = Literal["quarter", "school_year"]

SCHOOL_YEAR_START = (8, 1)
"""The school year runs from 1 August to 31 July."""


def _output_safe(value: str) -> str:
    """Refuse text that would act where an output is opened (a formula start, a control or
    invisible character): policy texts reach CSV, xlsx, sheets and the terminal as they are,
    under the same rule ingest applies to ids (docs/privacy.md#what-is-refused-on-reading)."""
    problem = hostile_text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


ShownText = Annotated[str, AfterValidator(_output_safe)]
"""A policy text that reaches an output: checked by :func:`_output_safe`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A user-facing text in Danish and English."""

    da: ShownText = Field(min_length=1)
    en: ShownText = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.da if lang == "da" else self.en


class TextList(_Strict):
    """A list of user-facing texts (e.g. actions) in Danish and English."""

    da: tuple[ShownText, ...] = Field(min_length=1)
    en: tuple[ShownText, ...] = Field(min_length=1)

    def __call__(self, lang: Lang) -> tuple[str, ...]:
        return self.da if lang == "da" else self.en


class Window(_Strict):
    """Exactly one of: the latest ``school_days`` school days of the pupil, the latest ``weeks``
    weeks (the dates after the as-of date minus 7 x weeks days), or the calendar ``period``
    (``quarter`` or ``school_year``) containing the as-of date, up to and including it."""

    school_days: int | None = Field(default=None, gt=0, le=1000)
    weeks: int | None = Field(default=None, gt=0, le=100)
    period: Period | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("school_days", "weeks", "period") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a window is exactly one of school_days, weeks or period")
        return self


class Rule(_Strict):
    """What is measured, over which window, counting which absence categories.

    ``percent``: 100 x absent days / school days in the window (partial days as fractions).
    ``days``: absent days in the window (partial days as fractions).
    ``consecutive_days``: the longest run of consecutive school days in the window on which the
    pupil's absence was at least ``min_fraction`` of the day. The run is over the pupil's own
    school days, so weekends, holidays and a change of school do not break it.
    """

    measure: MeasureKind
    window: Window
    categories: tuple[AbsenceCategory, ...] = Field(min_length=1)
    min_fraction: Decimal | None = Field(default=None, gt=0, le=1, decimal_places=3)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must not repeat")
        if self.min_fraction is not None and self.measure != "consecutive_days":
            raise ValueError("min_fraction applies only to measure = 'consecutive_days'")
        return self

    @property
    def run_fraction(self) -> Decimal:
        """The share of a day that makes it count in a run (default: the whole day)."""
        return Decimal(1) if self.min_fraction is None else self.min_fraction


class Threshold(_Strict):
    """Holds when the rule's value is ``at_least`` or more (inclusive, compared exactly).

    At most three decimals, so that the exact integer comparison cannot overflow.
    """

    rule: str
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
    """A guideline step: when it applies, who acts, and the minimum actions.

    ``label`` names the step in machine output where a number is not enough (the national rule's
    ``warn_parents`` and ``notify_municipality``).
    """

    step: int = Field(ge=1, le=9)
    label: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    when: Condition
    responsible: Text
    actions: TextList


class Policy(_Strict):
    """A municipality's guideline for worrying absence (or the national rule).

    ``series`` groups the versions of one guideline; evaluating an as-of date picks the version
    whose ``effective_from`` is the latest on or before it.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    series: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: ShownText
    title: Text
    description: Text
    source: ShownText
    effective_from: date
    min_school_days: int = Field(ge=1)
    primary_rule: str
    rules: dict[str, Rule] = Field(min_length=1)
    steps: tuple[Step, ...] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _rule_names(cls, rules: dict[str, Rule]) -> dict[str, Rule]:
        for name in rules:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"rule name '{name}' must be lower-case letters, digits and _")
        return rules

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.primary_rule not in self.rules:
            raise ValueError(f"primary_rule '{self.primary_rule}' is not among the rules")
        numbers = [s.step for s in self.steps]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("steps must be numbered 1, 2, 3, ... in order")
        for step in self.steps:
            for threshold in thresholds(step.when):
                if threshold.rule not in self.rules:
                    raise ValueError(f"step {step.step} uses unknown rule '{threshold.rule}'")
        return self

    @property
    def primary(self) -> Rule:
        return self.rules[self.primary_rule]

    def step(self, number: int) -> Step:
        return self.steps[number - 1]


def thresholds(condition: Condition) -> list[Threshold]:
    """All thresholds of a condition tree, depth first."""
    if isinstance(condition, Threshold):
        return [condition]
    children = condition.all if isinstance(condition, AllOf) else condition.any
    return [t for child in children for t in thresholds(child)]


def in_force(versions: list[Policy], as_of: date) -> Policy:
    """The version of a series in force on ``as_of``: the latest ``effective_from`` on or before."""
    dates = [p.effective_from for p in versions]
    if len(set(dates)) != len(dates):
        raise PolicyError("two versions of the policy take effect on the same date")
    candidates = [p for p in versions if p.effective_from <= as_of]
    if not candidates:
        first = min(p.effective_from for p in versions)
        raise PolicyError(
            f"no version of the policy is in force on {as_of.isoformat()}",
            hint=f"the earliest takes effect on {first.isoformat()}",
        )
    return max(candidates, key=lambda p: p.effective_from)


def _is_tag(path: list[str], i: int) -> bool:
    """Discriminator tags in pydantic's error paths: `threshold`, and `all`/`any` doubled."""
    return path[i] in _CONDITION_TAGS or (
        path[i] in ("all", "any") and i + 1 < len(path) and path[i + 1] == path[i]
    )


def toml_validation_error(exc: ValidationError, *, text: str, source: str) -> PolicyError:
    """The first of pydantic's errors as one line: ``source:LINE: field 'a.b': problem``."""
    first = exc.errors()[0]
    raw = [str(part) for part in first["loc"]]
    path = [p for i, p in enumerate(raw) if not _is_tag(raw, i)]
    line = line_of(text, path) if path else None
    where = f"{source}:{line}" if line else source
    field = f"field '{'.'.join(path)}': " if path else ""
    problem = first["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return PolicyError(f"{where}: {field}{problem}{more}")


def parse_policy(text: str, *, source: str) -> Policy:
    """Validate a policy TOML document; errors name ``source``, the line and the field.

    >>> parse_policy('name = "x"', source="x.toml")
    Traceback (most recent call last):
    ...
    fravaer.errors.PolicyError: x.toml: field 'version': Field required (and 8 more)
    """
    data = toml_data(text, source=source)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise toml_validation_error(exc, text=text, source=source) from None
