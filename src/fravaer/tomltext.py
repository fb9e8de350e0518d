r"""TOML text with line numbers: parse it, and point an error at the line that caused it.

Policy files, ``source.toml`` and ``report.toml`` all refuse a bad value with
``file:LINE: field 'a.b': problem`` (exit 78); the light reading of the TOML layout that finds
the line lives here once, for all three (docs/decisions.md).

>>> toml_lines('[inputs]\npaths = ["a.csv"]')
{('inputs',): 1, ('inputs', 'paths'): 2}
"""

from __future__ import annotations

import re
import tomllib

from fravaer.errors import PolicyError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\s\"']+?)\s*\]\]?")
_KEY = re.compile(r"([A-Za-z0-9_\-]+)\s*=")


def toml_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map field paths (``("steps", "1", "when", "at_least")``) to the TOML line defining them.

    A light reading of the TOML layout, enough to point an error at its line: table headers,
    arrays of tables (numbered), keys, and keys inside inline tables on the same line.
    """
    lines: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        header = _HEADER.match(code)
        if header:
            parts = tuple(p.strip().strip("\"'") for p in header[2].split("."))
            table = _resolve(parts, counts)
            if header[1] == "[[":
                counts[parts] = counts.get(parts, -1) + 1
                table = (*_resolve(parts[:-1], counts), parts[-1], str(counts[parts]))
            lines.setdefault(table, number)
            continue
        keys = _KEY.findall(re.sub(r'"[^"]*"|\'[^\']*\'', '""', code))
        if keys:
            lines.setdefault((*table, keys[0]), number)
            for inner in keys[1:]:
                lines.setdefault((*table, keys[0], inner), number)
    return lines


def _resolve(parts: tuple[str, ...], counts: dict[tuple[str, ...], int]) -> tuple[str, ...]:
    """A dotted table name, with the current index after each array of tables it passes."""
    resolved: list[str] = []
    for i in range(len(parts)):
        resolved.append(parts[i])
        if parts[: i + 1] in counts:
            resolved.append(str(counts[parts[: i + 1]]))
    return tuple(resolved)


def line_of(text: str, path: list[str]) -> int | None:
    """The line of the longest prefix of ``path`` that the TOML text defines."""
    lines = toml_lines(text)
    for end in range(len(path), 0, -1):
        if tuple(path[:end]) in lines:
            return lines[tuple(path[:end])]
    return None


MAX_TOML_DEPTH = 32
"""Tables and arrays nested deeper than this are refused: no fravaer file needs a third of it."""


def toml_data(text: str, *, source: str) -> dict[str, object]:
    r"""Parse TOML; a syntax error names ``source``, line and column (exit 78).

    Nesting deeper than :data:`MAX_TOML_DEPTH` (which can exhaust Python's stack in the parser)
    and a NUL character in any key or string (no path or name may hold one; the operating system
    refuses it) are refused the same way, with the line where it can be told.

    >>> toml_data('[inputs]\npaths = ["a\\u0000.csv"]', source="r.toml")
    Traceback (most recent call last):
    ...
    fravaer.errors.PolicyError: r.toml:2: field 'inputs.paths.0': holds a NUL character
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line 2, column 23)": put the place where every error puts it.
        place = re.search(r"\(at line (\d+), column (\d+)\)$", str(exc))
        where = f"{source}:{place[1]}:{place[2]}" if place else source
        problem = str(exc)[: place.start()].strip() if place else str(exc)
        raise PolicyError(f"{where}: not valid TOML: {problem}") from None
    except RecursionError:
        raise PolicyError(
            f"{source}: not valid TOML: nested more than {MAX_TOML_DEPTH} levels deep"
        ) from None
    _check_values(data, text=text, source=source)
    return data


def _check_values(data: dict[str, object], *, text: str, source: str) -> None:
    """Refuse deep nesting and NUL characters, walking without recursion."""
    stack: list[tuple[tuple[str, ...], object]] = [((), data)]
    while stack:
        path, value = stack.pop()
        problem = None
        if len(path) > MAX_TOML_DEPTH:
            problem = f"nested more than {MAX_TOML_DEPTH} levels deep"
        elif isinstance(value, dict):
            if any("\0" in str(key) for key in value):
                problem = "a key holds a NUL character"
            stack += [((*path, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [((*path, str(i)), v) for i, v in enumerate(value)]
        elif isinstance(value, str) and "\0" in value:
            problem = "holds a NUL character"
        if problem is not None:
            line = line_of(text, list(path)) if path else None
            where = f"{source}:{line}" if line else source
            field = f"field '{'.'.join(path[:MAX_TOML_DEPTH])}': " if path else ""
            raise PolicyError(f"{where}: {field}{problem}")
