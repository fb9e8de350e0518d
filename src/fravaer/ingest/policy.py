"""Find and read policy TOML files: bundled ones by name, custom ones by path (docs/policies.md).

A reference (``--policy REF``) is one of:

* a bundled policy's name (``aalborg-2023``): that version;
* a bundled series' name (``aalborg``): the version in force on the as-of date;
* a path to a policy TOML file: that policy;
* a path to a folder of policy TOML files of one series: the version in force on the as-of date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from fravaer.errors import PolicyError
from fravaer.ingest.regular import read_regular_text
from fravaer.policy import Policy, in_force, parse_policy

log = logging.getLogger("fravaer")


@cache
def bundled_policies() -> list[str]:
    """Names of the policies shipped inside the package.

    >>> bundled_policies()
    ['aalborg-2022', 'aalborg-2023', 'national-unlawful', 'odense', 'slagelse']
    """
    folder = resources.files("fravaer") / "policies"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


@cache
def bundled_series() -> dict[str, list[Policy]]:
    """Bundled policies grouped by series, oldest version first.

    >>> [p.name for p in bundled_series()["aalborg"]]
    ['aalborg-2022', 'aalborg-2023']
    """
    series: dict[str, list[Policy]] = {}
    for name in bundled_policies():
        policy = load_policy(name)
        series.setdefault(policy.series or policy.name, []).append(policy)
    return {k: sorted(v, key=lambda p: p.effective_from) for k, v in series.items()}


def load_policy(ref: str) -> Policy:
    """Load one bundled policy by name, or a custom one by path.

    >>> load_policy("aalborg-2023").primary.window.school_days
    100
    """
    if ref in bundled_policies():
        text = (resources.files("fravaer") / "policies" / f"{ref}.toml").read_text("utf-8")
        return parse_policy(text, source=ref)
    path = Path(ref)
    if path.suffix == ".toml" or path.is_file():
        return parse_policy(_read(path), source=ref)
    raise PolicyError(f"unknown policy '{ref}'", hint=_known())


@dataclass(frozen=True)
class PolicyChoice:
    """What a ``--policy`` reference can mean: one policy, or the versions of a series."""

    versions: list[Policy]
    series: bool


def policy_versions(ref: str) -> PolicyChoice:
    """Every version a reference can mean, read and validated now (before any data is read).

    A policy name or file gives one policy; a series or a folder gives all of its versions,
    oldest first. Bundled names come before paths, so a folder cannot shadow a bundled policy.

    >>> [p.name for p in policy_versions("aalborg").versions]
    ['aalborg-2022', 'aalborg-2023']
    """
    if ref in bundled_policies():
        return PolicyChoice([load_policy(ref)], series=False)
    series = bundled_series()
    if ref in series:
        return PolicyChoice(series[ref], series=True)
    path = Path(ref)
    if path.is_dir():
        versions = [parse_policy(_read(p), source=str(p)) for p in sorted(path.glob("*.toml"))]
        if not versions:
            raise PolicyError(f"{ref}: the folder holds no policy .toml files")
        if len({p.series or p.name for p in versions}) > 1:
            raise PolicyError(f"{ref}: the folder mixes policies of different series")
        return PolicyChoice(sorted(versions, key=lambda p: p.effective_from), series=True)
    return PolicyChoice([load_policy(ref)], series=False)


def pick_version(choice: PolicyChoice, *, as_of: date) -> Policy:
    """The version in force on ``as_of``; a single policy is used even before it takes effect."""
    if choice.series:
        return in_force(choice.versions, as_of)
    policy = choice.versions[0]
    if policy.effective_from > as_of:
        log.warning(
            "policy %s takes effect on %s, after the as-of date %s",
            policy.name,
            policy.effective_from.isoformat(),
            as_of.isoformat(),
        )
    return policy


def resolve_policy(ref: str, *, as_of: date) -> Policy:
    """The policy a reference means on ``as_of`` (a series picks the version in force).

    >>> resolve_policy("aalborg", as_of=date(2023, 6, 1)).name
    'aalborg-2022'
    >>> resolve_policy("aalborg", as_of=date(2023, 8, 1)).name
    'aalborg-2023'
    """
    return pick_version(policy_versions(ref), as_of=as_of)


def _read(path: Path) -> str:
    return read_regular_text(path, what="policy file")


def _known() -> str:
    names = sorted(set(bundled_policies()) | set(bundled_series()))
    return f"bundled policies and series: {', '.join(names)}"
