"""fravaer: early, exact answers about worrying absence in Danish schools.

The library API mirrors the command line: read an export into the canonical frame, then classify.

>>> from fravaer import load_policy
>>> load_policy("aalborg-2023").min_school_days
10

The names are imported on first use, so that the command line can install its signal handlers
before polars is loaded (``fravaer.entry``).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fravaer.classify import classify
    from fravaer.ingest import read_export
    from fravaer.ingest.policy import load_policy
    from fravaer.policy import Policy

__version__ = "0.1.0"

__all__ = ["Policy", "__version__", "classify", "load_policy", "read_export"]

_HOMES = {
    "Policy": "fravaer.policy",
    "classify": "fravaer.classify",
    "load_policy": "fravaer.ingest.policy",
    "read_export": "fravaer.ingest",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fravaer' has no attribute {name!r}")


class _Package(types.ModuleType):
    """Keeps ``fravaer.classify`` the function, as an eager import did.

    Importing the submodule ``fravaer.classify`` sets the package's attribute of that name to the
    module; an eager ``from fravaer.classify import classify`` used to set it back. Here the
    module is simply not stored under a name of the API, so ``__getattr__`` answers instead.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
