"""fravaer: early, exact answers about worrying absence in Danish schools.

The library API mirrors the command line: read an export into the canonical frame, then classify.

>>> from fravaer import load_policy
>>> load_policy("aalborg-2023").min_school_days
10
"""

from fravaer.classify import classify
from fravaer.ingest import read_export
from fravaer.ingest.policy import load_policy
from fravaer.policy import Policy

__version__ = "0.1.0"

__all__ = ["Policy", "__version__", "classify", "load_policy", "read_export"]
