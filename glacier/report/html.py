"""One self-contained HTML file: the CSS, the page's scripts, the graph layout library and
the report's data all inline. Nothing is fetched when it is opened (no server, no network).

The layout library is the npm package ``@dagrejs/dagre`` pinned in ``package.json``. Its
minified bundle is vendored into ``glacier/report/assets/vendor/`` by ``make vendor`` (from
``node_modules`` after ``npm ci``) and ships with the Python package, so users need no Node;
a test checks the vendored copy is byte-identical to the pinned package.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from glacier.report.runs import ReportError

ASSETS = Path(__file__).resolve().parent / "assets"
VENDOR = ASSETS / "vendor"
LAYOUT_LIBRARY = VENDOR / "dagre.min.js"
# Order matters: helpers first, the page builder (which runs at once) last.
SCRIPTS = ("util.js", "layout.js", "graph.js", "timeline.js", "tables.js", "main.js")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<main id="report"></main>
<script type="application/json" id="glacier-data">{data}</script>
<script>
{library}
</script>
<script>
{scripts}
</script>
</body>
</html>
"""


def render_html(document: dict[str, Any]) -> str:
    """The report page for a document from ``glacier.report.document.report_document``."""
    return _PAGE.format(
        title=html.escape(f"Glacier report: {document['title']}"),
        css=_read(ASSETS / "report.css"),
        data=embed_json(document),
        library=inline_script(_library()),
        scripts="\n".join(inline_script(_read(ASSETS / name)) for name in SCRIPTS),
    )


def embed_json(document: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can end it early (they are
    written as \\u escapes, which JSON.parse reads back), nor U+2028/2029."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def inline_script(source: str) -> str:
    """A script's text made safe to inline: no source-map comment (the browser would try to
    fetch the map), and no '</script' that would end the element."""
    source = _SOURCE_MAP.sub("", source)
    if "</script" in source.lower():
        raise ReportError(
            "A report script contains '</script', which cannot be inlined into the page.",
            fix="escape it in the script's source as '<\\/script'.",
        )
    return source


def _library() -> str:
    if not LAYOUT_LIBRARY.exists():
        raise ReportError(
            f"The report's graph layout library is missing: {LAYOUT_LIBRARY}.",
            fix="run `make vendor` in a Glacier checkout (it copies it from node_modules after "
            "npm ci), or reinstall glacier.",
        )
    return _read(LAYOUT_LIBRARY)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def write_html(text: str, output: str | Path) -> Path:
    """Write the page to ``output`` (parents created); return its absolute path."""
    path = Path(output).expanduser()
    if path.is_dir():
        raise ReportError(
            f"The report output '{path}' is a directory.",
            fix=f"pass a file name, e.g. -o {path / 'report.html'}.",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(
            f"Cannot write the report to '{path}': {exc.strerror or exc}.",
            fix="pass -o with a path in a folder you can write to.",
        ) from None
    return path.resolve()
