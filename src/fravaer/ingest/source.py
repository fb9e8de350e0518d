"""The options of ``--source source.toml``, under the name the library has always given them.

They live in :mod:`fravaer.source`, below both ingest and :mod:`fravaer.config`.

>>> from fravaer.ingest.source import SourceOptions
>>> SourceOptions().shape
'auto'
"""

from fravaer.source import Calendar, LocalCode, SourceOptions

__all__ = ["Calendar", "LocalCode", "SourceOptions"]
