"""The throughput chart's geometry, drawn server-side as SVG (live.js redraws it the same way).

Server-side drawing means the chart is there on first paint and without JavaScript; the
polyline coordinates are numbers only, so no user data reaches the SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 900
HEIGHT = 160


@dataclass(frozen=True, kw_only=True)
class Chart:
    """Two polylines (completed, failed) over the window, scaled to the busiest second."""

    completed_points: str
    failed_points: str
    peak: int
    total_completed: int
    total_failed: int
    width: int = WIDTH
    height: int = HEIGHT


def throughput_chart(series: list[tuple[int, int, int]]) -> Chart:
    """Scale `(second, completed, failed)` samples, oldest first, into the chart box."""
    peak = max((max(c, f) for _, c, f in series), default=0)
    scale = (HEIGHT - 4) / peak if peak else 0.0
    step = WIDTH / max(len(series) - 1, 1)

    def points(index: int) -> str:
        return " ".join(
            f"{i * step:.1f},{HEIGHT - 2 - sample[index] * scale:.1f}"
            for i, sample in enumerate(series)
        )

    return Chart(
        completed_points=points(1),
        failed_points=points(2),
        peak=peak,
        total_completed=sum(c for _, c, _ in series),
        total_failed=sum(f for _, _, f in series),
    )
