"""The HTML pages of ``fravaer site`` (docs/site.md), rendered into memory from templates.

The figures come from :mod:`fravaer.site` (the same plans as the commands), collected once by
:func:`collect_site`; this package only lays them out, in rooms: figures as shown (``numbers``),
the trend chart's geometry (``chart``), the environment (``environment``), the meeting sheet that
``escalate`` and ``report`` write too (``meeting``) and the rendering (``build``). Its words are
:mod:`fravaer.words`' table, the one every output takes its words from. Pages are rendered by
jinja2 from the templates shipped in ``fravaer/templates`` with autoescaping on. No page refers to
anything outside itself: the style is inline, the trend chart is SVG drawn by the template from
the weekly points, and there is no script.

The package writes nothing and names no file by itself: the caller gives each school's folder
name (``tokens.school_names``) and each pupil's token (``pseudonymize.pupil_tokens``), and
writes the returned ``(relative path, bytes)`` pairs as one unit.
"""

from fravaer.pages.build import (
    INDEX,
    PAGE_SUFFIX,
    SiteContext,
    collect_site,
)
from fravaer.pages.meeting import (
    markdown_text,
    sheet_html,
    sheet_markdown,
    sheet_view,
)

__all__ = [
    "INDEX",
    "PAGE_SUFFIX",
    "SiteContext",
    "collect_site",
    "markdown_text",
    "sheet_html",
    "sheet_markdown",
    "sheet_view",
]
