"""Find and read policy TOML files: bundled ones by name, custom ones by path (SPEC §4)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fravaer.errors import InputMissingError, PolicyError
from fravaer.policy import Policy, parse_policy


def bundled_policies() -> list[str]:
    """Names of the policies shipped inside the package.

    >>> "aalborg-2023" in bundled_policies()
    True
    """
    folder = resources.files("fravaer") / "policies"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_policy(ref: str) -> Policy:
    """Load a bundled policy by name, or a custom one by path.

    >>> load_policy("aalborg-2023").primary.window.school_days
    100
    """
    if ref in bundled_policies():
        text = (resources.files("fravaer") / "policies" / f"{ref}.toml").read_text("utf-8")
        return parse_policy(text, source=ref)
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise InputMissingError(f"{ref}: policy file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputMissingError(
                f"{ref}: cannot read policy file ({type(exc).__name__})"
            ) from None
        return parse_policy(text, source=ref)
    raise PolicyError(
        f"unknown policy '{ref}'", hint=f"bundled policies: {', '.join(bundled_policies())}"
    )
