"""The summary report: each framework's distribution of outcomes per area as an inline SVG bar
chart, one chart per framework (never merged), from the distributions `arbiter summary`
computes (workspace/compare.py), with their table and their statement of what rests on
constructed evidence. Nothing is counted here."""

from __future__ import annotations

from typing import Any

# Okabe and Ito's colour-blind-safe categorical palette, each with the text colour that reads on it.
SERIES: tuple[tuple[str, str], ...] = (
    ("#0072b2", "#ffffff"), ("#e69f00", "#000000"), ("#009e73", "#000000"), ("#cc79a7", "#000000"),
    ("#56b4e9", "#000000"), ("#d55e00", "#000000"), ("#f0e442", "#000000"), ("#999999", "#000000"),
)
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, GAP = 330, 420, 26, 6


def summary_view(distributions: list[Any]) -> list[dict[str, Any]]:
    return [_chart(index, dist) for index, dist in enumerate(distributions)]


def _chart(index: int, dist: Any) -> dict[str, Any]:
    widest = max((total for _, _, total in dist.rows), default=0) or 1
    rows = []
    for row_index, (area, counts, total) in enumerate(dist.rows):
        x = LABEL_WIDTH
        segments = []
        for column, count in enumerate(counts):
            width = BAR_WIDTH * count / widest
            back, text = SERIES[column % len(SERIES)]
            if count:
                segments.append({"x": round(x, 2), "width": round(width, 2), "fill": back, "text": text,
                                 "count": count, "column": dist.columns[column], "wide": width >= 16})
            x += width
        rows.append({"area": area, "total": total, "y": row_index * (ROW_HEIGHT + GAP), "segments": segments,
                     "counts": counts})
    return {"id": f"chart-{index}", "framework": dist.framework, "columns": dist.columns,
            "swatches": [SERIES[i % len(SERIES)] for i in range(len(dist.columns))], "rows": rows,
            "width": LABEL_WIDTH + BAR_WIDTH + 60, "height": len(rows) * (ROW_HEIGHT + GAP),
            "row_height": ROW_HEIGHT, "label_width": LABEL_WIDTH, "decisions": dist.decisions,
            "constructed": dist.constructed, "provenance": dist.provenance()}
