"""Render a `Report` to Markdown and to one self-contained HTML page.

Both read the report value only. All text that came from users or data
(class names, file names, captions) is escaped; the HTML embeds every figure
as a data URI, so the page opens anywhere without its folder.

Numbers are formatted by one rule (see `_decimals`): the numbers of a table
column, or a metric with its interval, share one number of decimals.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
import re
from typing import Any

from solutions.core.figures import plot_png
from solutions.core.report import LOSS, WIN, Report, Section


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
        if section.kind == "text" and "outcome" in section.data:  # a verdict: the sentence first, in bold
            lines += [f"**{_md(section.data['text'])}**", "", *([_md(section.note), ""] if section.note else [])]
            continue
        if section.note:
            lines += [_md(section.note), ""]
        if section.kind == "metrics":
            lines += _md_table(["metric", "value", "95% interval"], _metric_rows(section.data["rows"]))
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
        if section.kind == "text" and "outcome" in section.data:  # a verdict: the sentence first, coloured by outcome
            outcome = {WIN: "win", LOSS: "loss"}.get(section.data["outcome"], "undecided")
            body.append(f'<p class="verdict {outcome}">{e(section.data["text"])}</p>')
            body.append((f'<p class="note">{e(section.note)}</p>' if section.note else "") + "</section>")
            continue
        if section.note:
            body.append(f'<p class="note">{e(section.note)}</p>')
        if section.kind == "metrics":
            body.append(_html_table(["metric", "value", "95% interval"], _metric_rows(section.data["rows"])))
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


DECIMALS = 4  # digits after the point of rates, probabilities and other numbers below 1 in size


def _is_float(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral))


def _decimals(values: list[Any]) -> int:
    """The digits after the point shared by the non-integer numbers among `values` (a table column,
    or a metric with its interval); integers (int values) are always shown as integers.

    All within [-1, 1] (rates, probabilities, scores): 4. Else all whole (costs, counts held as
    floats): 0. Else as many as the finest number needs: 4 below 1 in size, otherwise about four
    significant digits (4 minus the digits before the point, at least 0). NaN and infinities are ignored.

    >>> _decimals([0.5, 1.0]), _decimals([1205.0, 795.0]), _decimals([612.25, 598.5]), _decimals([12.5, 0.25])
    (4, 0, 1, 4)
    """
    sizes = [abs(float(v)) for v in values if _is_float(v) and math.isfinite(v)]
    if all(size <= 1 for size in sizes):
        return DECIMALS
    return max((DECIMALS if size < 1 else max(0, DECIMALS - len(str(int(size))))
                for size in sizes if not size.is_integer()), default=0)


def _format_value(value: Any, decimals: int | None = None) -> str:
    """A cell as text: integers with thousands separators, other numbers with `decimals` digits after
    the point (by default those `_decimals` chooses for the value alone), NaN as a dash, text as is.

    >>> _format_value(1205), _format_value(1205.0, 0), _format_value(795.0, 4), _format_value(float("nan"))
    ('1,205', '1,205', '795.0000', '—')
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{int(value):,}"
    if not _is_float(value):
        return str(value)
    value = float(value)
    if value != value:
        return "—"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:,.{_decimals([value]) if decimals is None else decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.0000"


def _format_columns(rows: list[list[Any]]) -> list[list[str]]:
    """Table cells as text, the numbers of each column sharing one format (see `_decimals`)."""
    width = max((len(row) for row in rows), default=0)
    decimals = [_decimals([row[k] for row in rows if k < len(row)]) for k in range(width)]
    return [[_format_value(v, decimals[k]) for k, v in enumerate(row)] for row in rows]


def _format_interval(entry: dict[str, Any], decimals: int | None = None) -> str:
    if entry.get("low") is None or entry.get("high") is None:
        return ""
    if decimals is None:
        decimals = _decimals([entry.get("value"), entry["low"], entry["high"]])
    return f"[{_format_value(entry['low'], decimals)}, {_format_value(entry['high'], decimals)}]"


def _format_entry(entry: dict[str, Any]) -> str:
    """A metric's value and interval, in one format chosen from the three numbers."""
    decimals = _decimals([entry["value"], entry.get("low"), entry.get("high")])
    interval = _format_interval(entry, decimals)
    return _format_value(entry["value"], decimals) + (f" (95% CI {interval})" if interval else "")


def _metric_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of a metrics section: each metric's value and interval share their format (metrics differ in kind)."""
    formatted = []
    for row in rows:
        decimals = _decimals([row["value"], row.get("low"), row.get("high")])
        formatted.append([str(row["metric"]), _format_value(row["value"], decimals), _format_interval(row, decimals)])
    return formatted


def _md(text: Any) -> str:
    """Escape text for Markdown: no raw HTML, no table breaks."""
    # quote=False: quotes need no escaping in Markdown text, and `&#x27;` would be mangled by the `#` escape.
    text = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text).replace("\n", " ")


def _md_table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_md(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in _format_columns(rows)]
    return lines


def _html_table(columns: list[str], rows: list[list[Any]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in _format_columns(rows))
    # The box scrolls sideways when the table is wider than the page (many columns), not the page.
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


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
.verdict {{ font-size: 1.1em; font-weight: 600; padding: .4em .6em; border-left: 4px solid #999; background: #f6f6f6; }}
.verdict.win {{ border-color: #2a8a3e; }} .verdict.loss {{ border-color: #c0392b; }}
.table-wrap {{ overflow-x: auto; max-width: 100%; margin: .5em 0; }}
table {{ border-collapse: collapse; font-size: .9em; }}
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
