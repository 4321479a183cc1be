"""The throughput chart's geometry, drawn server-side as SVG (live.js redraws it the same way).

Server-side drawing means the chart is there on first paint and without JavaScript; the
coordinates are numbers only, so no user data reaches the SVG. The vertical scale rounds
the busiest second up to a "nice" number (1, 2 or 5 times a power of ten), so the two
gridlines (the top and half of it) keep readable labels while the chart moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH = 900
HEIGHT = 160
PAD = 2
RATE_SECONDS = 10
"""The "now" rate is the average over this many most recent seconds."""


@dataclass(frozen=True, kw_only=True)
class Window:
    """How much of the last 15 minutes the chart shows, and its time axis."""

    key: str
    seconds: int
    label: str
    ticks: tuple[str, ...]


WINDOWS = {
    w.key: w
    for w in (
        Window(key="15m", seconds=900, label="15 minutes",
               ticks=("15 min ago", "10 min", "5 min", "now")),
        Window(key="5m", seconds=300, label="5 minutes",
               ticks=("5 min ago", "4 min", "3 min", "2 min", "1 min", "now")),
        Window(key="1m", seconds=60, label="minute",
               ticks=("60 s ago", "45 s", "30 s", "15 s", "now")),
    )
}  # fmt: skip
DEFAULT_WINDOW = "15m"


@dataclass(frozen=True, kw_only=True)
class Chart:
    """Completed and failed per second over the window: lines, filled areas, scale, totals."""

    completed_points: str
    failed_points: str
    completed_area: str
    failed_area: str
    scale_max: int
    peak: int
    total_completed: int
    total_failed: int
    rate_completed: float
    rate_failed: float
    window: Window
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def scale_half(self) -> str:
        half = self.scale_max / 2
        return f"{half:g}"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at least `value` (1 for nothing)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def throughput_chart(series: list[tuple[int, int, int]], window: str = DEFAULT_WINDOW) -> Chart:
    """Scale the `window`'s share of `(second, completed, failed)` samples, oldest first,
    into the chart box (an unknown window is the default one)."""
    shown = WINDOWS.get(window, WINDOWS[DEFAULT_WINDOW])
    series = series[-shown.seconds :]
    peak = max((max(c, f) for _, c, f in series), default=0)
    scale_max = nice_ceiling(peak)
    scale = (HEIGHT - 2 * PAD) / scale_max
    step = WIDTH / max(len(series) - 1, 1)

    def points(index: int) -> str:
        return " ".join(
            f"{i * step:.1f},{HEIGHT - PAD - sample[index] * scale:.1f}"
            for i, sample in enumerate(series)
        )

    def area(line: str) -> str:
        return f"0,{HEIGHT - PAD} {line} {WIDTH},{HEIGHT - PAD}" if line else ""

    recent = series[-RATE_SECONDS:]
    completed, failed = points(1), points(2)
    return Chart(
        completed_points=completed,
        failed_points=failed,
        completed_area=area(completed),
        failed_area=area(failed),
        scale_max=scale_max,
        peak=peak,
        total_completed=sum(c for _, c, _ in series),
        total_failed=sum(f for _, _, f in series),
        rate_completed=sum(c for _, c, _ in recent) / max(len(recent), 1),
        rate_failed=sum(f for _, _, f in recent) / max(len(recent), 1),
        window=shown,
    )
