"""Draw a report's plot sections as PNG bytes with matplotlib.

Reads plot data from a `Section`; computes nothing but the picture.
"""

from __future__ import annotations

import io

import numpy as np

from solutions.core.report import Section


def plot_png(section: Section) -> bytes:
    """Render one plot section to PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    kind = section.data["plot"]
    drawers = {"confusion_matrix": _confusion_matrix, "lines": _lines, "bars": _bars, "histogram": _histogram}
    figure = drawers[kind](plt, section)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _confusion_matrix(plt, section: Section):
    matrix = np.asarray(section.data["matrix"], dtype=float)
    labels = section.data["labels"]
    size = max(4.0, 0.5 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    row_sums = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, row_sums, out=np.zeros_like(matrix), where=row_sums > 0)
    axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if len(labels) <= 20:
        for i in range(len(labels)):
            for j in range(len(labels)):
                axes.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center",
                          color="white" if share[i, j] > 0.5 else "black", fontsize=8)
    axes.set_title(section.title)
    return figure


def _lines(plt, section: Section):
    figure, axes = plt.subplots(figsize=(6, 4))
    for series in section.data["series"]:
        axes.plot(series["x"], series["y"], label=series["name"], linestyle=series.get("style", "-"),
                  marker=series.get("marker"))
    axes.set_xlabel(section.data.get("x_label", ""))
    axes.set_ylabel(section.data.get("y_label", ""))
    axes.grid(alpha=0.3)
    if len(section.data["series"]) > 1:
        axes.legend()
    axes.set_title(section.title)
    return figure


def _bars(plt, section: Section):
    labels, values = section.data["labels"], section.data["values"]
    figure, axes = plt.subplots(figsize=(6, max(2.5, 0.3 * len(labels) + 1)))
    axes.barh(range(len(labels)), values)
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()
    axes.set_xlabel(section.data.get("x_label", ""))
    axes.set_title(section.title)
    return figure


def _histogram(plt, section: Section):
    edges = np.asarray(section.data["edges"], dtype=float)
    figure, axes = plt.subplots(figsize=(6, 4))
    for series in section.data["series"]:
        axes.stairs(series["shares"], edges, label=f"{series['name']} (n={series['count']})", fill=True, alpha=0.45)
    axes.set_xlabel(section.data.get("x_label", ""))
    axes.set_ylabel(section.data.get("y_label", ""))
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(section.title)
    return figure
