"""The throughput chart's scale and windows (live.js mirrors this arithmetic)."""

from __future__ import annotations

from jobforge.dashboard.chart import HEIGHT, WIDTH, nice_ceiling, throughput_chart


def test_the_scale_rounds_the_peak_up_to_a_nice_number() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 7, 10, 11, 40, 51, 999, 1001)] == [
        1, 1, 2, 5, 10, 10, 20, 50, 100, 1000, 2000,
    ]  # fmt: skip


def test_chart_scales_the_busiest_second_and_reports_rates() -> None:
    series = [(s, 0, 0) for s in range(890)] + [(890 + s, 8, s % 2) for s in range(10)]
    chart = throughput_chart(series)
    assert (chart.peak, chart.scale_max, chart.scale_half) == (8, 10, "5")
    assert (chart.total_completed, chart.total_failed) == (80, 5)
    assert (chart.rate_completed, chart.rate_failed) == (8.0, 0.5)
    completed = [tuple(map(float, p.split(","))) for p in chart.completed_points.split()]
    assert len(completed) == 900 and completed[0] == (0.0, HEIGHT - 2)
    assert completed[-1][0] == WIDTH and completed[-1][1] == HEIGHT - 2 - 8 * (HEIGHT - 4) / 10
    assert chart.completed_area.startswith(f"0,{HEIGHT - 2} ")
    assert chart.completed_area.endswith(f" {WIDTH},{HEIGHT - 2}")


def test_a_window_shows_only_its_seconds() -> None:
    series = [(s, 100 if s < 800 else 1, 0) for s in range(900)]
    last_minute = throughput_chart(series, "1m")
    assert len(last_minute.completed_points.split()) == 60
    assert (last_minute.peak, last_minute.window.ticks[-1]) == (1, "now")
    assert throughput_chart(series, "nonsense").window.key == "15m"
    assert throughput_chart([]).completed_area == ""
