"""Render a `Report` to Markdown and to one self-contained HTML page.

Both read the report value only. All text that came from users or data
(class names, file names, captions) is escaped; the HTML embeds every figure
as a data URI, so the page opens anywhere without its folder.
"""

from __future__ import annotations

import base64
import html
import re
from typing import Any

from solutions.core.figures import plot_png
from solutions.core.report import Report, Section


def render_figures(report: Report) -> dict[str, bytes]:
    """Every plot and image of the report as PNG bytes, keyed by file name under figures/."""
    files: dict[str, bytes] = {}
    for number, section in enumerate(report.sections):
        stem = f"{number:02d}-{_slug(section.title)}"
        if section.kind == "plot":
            files[f"{stem}.png"] = plot_png(section)
        elif section.kind == "images":
            for i, image in enumerate(section.data["images"]):
                files[f"{stem}-{i:02d}.png"] = base64.b64decode(image["png"])
    return files


def render_markdown(report: Report, figures_dir: str = "figures") -> str:
    """Markdown text; figures are linked from `figures_dir` (written by the caller)."""
    lines = [f"# {_md(report.title)}", ""]
    primary = report.primary
    lines += [f"**{_md(report.primary_metric)}: {_format_entry(primary)}**", ""]
    for number, section in enumerate(report.sections):
        stem = f"{number:02d}-{_slug(section.title)}"
        lines += [f"## {_md(section.title)}", ""]
        if section.note:
            lines += [_md(section.note), ""]
        if section.kind == "metrics":
            lines += _md_table(["metric", "value", "95% interval"], [
                [row["metric"], _format_value(row["value"]), _format_interval(row)] for row in section.data["rows"]
            ])
        elif section.kind == "table":
            lines += _md_table(section.data["columns"], section.data["rows"])
        elif section.kind == "plot":
            lines.append(f"![{_md(section.title)}]({figures_dir}/{stem}.png)")
        elif section.kind == "images":
            for i, image in enumerate(section.data["images"]):
                lines.append(f"![{_md(image['caption'])}]({figures_dir}/{stem}-{i:02d}.png) {_md(image['caption'])}  ")
        elif section.kind == "text":
            lines.append(_md(section.data["text"]))
        elif section.kind == "highlighted_text":
            for item in section.data["items"]:
                lines += [f"**{_md(item['caption'])}**", "", _md_highlighted(item["tokens"], item["weights"]), ""]
        lines.append("")
    return "\n".join(lines)


def render_html(report: Report) -> str:
    """One self-contained HTML page (inline CSS, figures as data URIs, no scripts)."""
    e = html.escape
    body = [f"<h1>{e(report.title)}</h1>",
            f'<p class="headline">{e(report.primary_metric)}: <strong>{e(_format_entry(report.primary))}</strong></p>']
    for section in report.sections:
        body.append(f"<section><h2>{e(section.title)}</h2>")
        if section.note:
            body.append(f'<p class="note">{e(section.note)}</p>')
        if section.kind == "metrics":
            body.append(_html_table(["metric", "value", "95% interval"], [
                [row["metric"], _format_value(row["value"]), _format_interval(row)] for row in section.data["rows"]
            ]))
        elif section.kind == "table":
            body.append(_html_table(section.data["columns"], section.data["rows"]))
        elif section.kind == "plot":
            data = base64.b64encode(plot_png(section)).decode("ascii")
            body.append(f'<img class="plot" alt="{e(section.title)}" src="data:image/png;base64,{data}">')
        elif section.kind == "images":
            body.append('<div class="grid">')
            for image in section.data["images"]:
                wide = ' class="wide"' if _png_width(image["png"]) > WIDE_IMAGE else ""
                body.append(
                    f'<figure{wide}><img alt="{e(image["caption"])}" src="data:image/png;base64,{image["png"]}">'
                    f"<figcaption>{e(image['caption'])}</figcaption></figure>"
                )
            body.append("</div>")
        elif section.kind == "text":
            body.append(f"<p>{e(section.data['text'])}</p>")
        elif section.kind == "highlighted_text":
            for item in section.data["items"]:
                body.append(f'<p class="caption">{e(item["caption"])}</p><p class="highlighted">'
                            f'{_html_highlighted(item["tokens"], item["weights"])}</p>')
        body.append("</section>")
    return _PAGE.format(title=e(report.title), body="\n".join(body))


HIGHLIGHT_THRESHOLD = 0.2


def _md_highlighted(tokens: list[str], weights: list[float]) -> str:
    """Tokens as Markdown; those of weight at least 0.2 in size in bold with their signed weight."""
    return " ".join(f"**{_md(t)}**({float(w):+.2f})" if abs(float(w)) >= HIGHLIGHT_THRESHOLD else _md(t)
                    for t, w in zip(tokens, weights))


def _html_highlighted(tokens: list[str], weights: list[float]) -> str:
    """Tokens as escaped spans shaded green (weight > 0) or red (weight < 0) by the weight's size."""
    spans = []
    for token, weight in zip(tokens, weights):
        weight = max(-1.0, min(1.0, float(weight))) if weight == weight else 0.0
        colour = "0,150,60" if weight > 0 else "210,40,40"
        spans.append(f'<span style="background:rgba({colour},{abs(weight):.2f})" title="{weight:+.2f}">'
                     f"{html.escape(str(token))}</span>")
    return " ".join(spans)


WIDE_IMAGE = 200  # images wider than this (drawn detections, say) are shown at their own size, not as thumbnails


def _png_width(png_base64: str) -> int:
    """The width in a base64 PNG's header (0 when it cannot be read).

    >>> import base64, struct
    >>> _png_width(base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\x00\\x00\\x00\\rIHDR" + struct.pack(">II", 320, 240)).decode())
    320
    """
    try:
        header = base64.b64decode(png_base64[:32])
    except ValueError:
        return 0
    return int.from_bytes(header[16:20], "big") if len(header) >= 20 and header[12:16] == b"IHDR" else 0


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value != value:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _format_interval(entry: dict[str, Any]) -> str:
    if entry.get("low") is None or entry.get("high") is None:
        return ""
    return f"[{entry['low']:.4f}, {entry['high']:.4f}]"


def _format_entry(entry: dict[str, Any]) -> str:
    interval = _format_interval(entry)
    return f"{_format_value(entry['value'])}" + (f" (95% CI {interval})" if interval else "")


def _md(text: Any) -> str:
    """Escape text for Markdown: no raw HTML, no table breaks."""
    # quote=False: quotes need no escaping in Markdown text, and `&#x27;` would be mangled by the `#` escape.
    text = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text).replace("\n", " ")


def _md_table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_md(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md(_format_value(v)) for v in row) + " |" for row in rows]
    return lines


def _html_table(columns: list[str], rows: list[list[Any]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{e(_format_value(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "section"


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }}
.headline {{ font-size: 1.2em; }} .note {{ color: #555; }}
table {{ border-collapse: collapse; margin: .5em 0; font-size: .9em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; }}
th {{ background: #f4f4f4; }}
img.plot {{ max-width: 100%; }}
.grid {{ display: flex; flex-wrap: wrap; gap: .6em; }}
p.highlighted {{ line-height: 1.7; }} p.caption {{ font-weight: 600; margin-bottom: .2em; }}
figure {{ margin: 0; width: 140px; font-size: .75em; }} figure img {{ width: 128px; image-rendering: pixelated; }}
figure.wide {{ width: auto; max-width: 100%; }} figure.wide img {{ width: auto; max-width: 100%; image-rendering: auto; }}
</style></head>
<body>
{body}
</body></html>
"""
