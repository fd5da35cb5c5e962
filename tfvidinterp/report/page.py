"""The report as one self-contained HTML page.

The page embeds its images as data URIs and its style inline, so it opens
from disk with no server and no network. On load, a small script counts the
images the browser decoded and writes `data-images-loaded="N/M"` on <body>,
which a headless browser's DOM dump shows.
"""

import base64
import html

from tfvidinterp.report import tables

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: bold; }
.banner { background: #fde2e1; border: 2px solid #c0392b; padding: 0.5em 1em;
  margin: 1em 0; }
.note { color: #555; font-size: 0.9em; max-width: 60em; }
.figures img { margin: 0.3em; border: 1px solid #ddd; }
.gif { display: inline-block; margin: 0.5em; vertical-align: top; }
"""


_SCRIPT = """
window.addEventListener("load", function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) loaded++;
  }
  document.body.setAttribute("data-images-loaded",
                             loaded + "/" + images.length);
});
"""


def data_uri(data: bytes, mime: str) -> str:
    """`data:<mime>;base64,...` for embedding `data` in the page."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def to_html(title: str, intro: str, tables, figures, gifs, warnings=()) -> str:
    """The whole report page.

    Args:
        title: Page title.
        intro: A paragraph of plain text under the title.
        warnings: Plain-text sentences for a banner above everything else
            (a model that missed its target accuracy or a faithfulness
            target); none, no banner.
        tables: `tables.Table`s, in order.
        figures: `(caption, png_bytes)` pairs (the histograms).
        gifs: `(caption, gif_bytes)` pairs.

    Returns:
        The HTML text.
    """
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style>",
        f"<script>{_SCRIPT}</script></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if warnings:
        parts.append(
            '<div class="banner" role="alert"><strong>Read this '
            "first: these results missed their targets.</strong><ul>"
            + "".join(f"<li>{esc(w)}</li>" for w in warnings)
            + "</ul></div>"
        )
    parts.append(f'<p class="note">{esc(intro)}</p>')
    for table in tables:
        parts.append(_table_html(table))
    if figures:
        parts.append('<h2>Histograms (Fig. 4)</h2><div class="figures">')
        parts += [
            f'<img src="{data_uri(png, "image/png")}" '
            f'alt="{esc(caption)}" title="{esc(caption)}">'
            for caption, png in figures
        ]
        parts.append("</div>")
    if gifs:
        parts.append("<h2>Explained clips</h2>")
        parts += [
            f'<div class="gif"><div>{esc(caption)}</div>'
            f'<img src="{data_uri(data, "image/gif")}" '
            f'alt="{esc(caption)}"></div>'
            for caption, data in gifs
        ]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table_html(table):
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{esc(tables.format_cell(c))}</td>" for c in row)
        + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{esc(table.note)}</p>' if table.note else ""
    return (
        f'<table id="{esc(table.id)}"><caption>{esc(table.title)}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f"</table>{note}"
    )
