"""The summary chart: RAG counts at the quarter's start and end, as a PNG (matplotlib, Agg)."""

from __future__ import annotations

import io

from bot.reports.model import Report
from bot.reports.tables import end_label

COLOURS = {
    "red": "#c0392b",
    "amber": "#e69f00",
    "green": "#2e8b57",
    "not rated": "#9e9e9e",
    "done": "#1d4f91",
    "waived": "#c8c8c8",
}


def rag_chart_png(report: Report) -> bytes:
    """Grouped bars per RAG status; the same report gives the same bytes."""
    # matplotlib is heavy: imported only when a pack is made, never at start-up. The
    # Figure is drawn with the Agg canvas directly, so no pyplot state or GUI backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    counts = report.summary.counts
    labels = [c.label for c in counts]
    positions = list(range(len(counts)))
    width = 0.38
    figure = Figure(figsize=(7.0, 3.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.bar(
        [p - width / 2 for p in positions],
        [c.at_start for c in counts],
        width,
        label="Start of quarter",
        color=[COLOURS[c.bucket] for c in counts],
        alpha=0.45,
        hatch="///",
        edgecolor="#333333",
        linewidth=0.6,
    )
    now_bars = axes.bar(
        [p + width / 2 for p in positions],
        [c.now for c in counts],
        width,
        label=end_label(report),
        color=[COLOURS[c.bucket] for c in counts],
        edgecolor="#333333",
        linewidth=0.6,
    )
    axes.bar_label(now_bars, padding=2, fontsize=8)
    axes.set_xticks(positions, labels)
    axes.set_ylabel("Actions")
    axes.set_title(f"RAG status of actions, {report.quarter.label}")
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
