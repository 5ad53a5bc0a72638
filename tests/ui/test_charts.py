"""Chart geometry: bars proportional to their figures, ranges against the expected days."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from integration.ui.charts import (BAR_SPACE, RANGE_SPACE, before_after_chart, count_chart, days_chart,
                                   funnel_chart, timeline_chart)


def test_funnel_bars_are_proportional_and_carry_conversion():
    chart = funnel_chart([
        {"label": "Awareness", "reached": 200, "conversion": None},
        {"label": "Consideration", "reached": 50, "conversion": 0.25},
        {"label": "Decision", "reached": 0, "conversion": 0.0}])
    assert [bar.width for bar in chart.rows] == [BAR_SPACE, BAR_SPACE / 4, 0]
    assert [bar.text for bar in chart.rows] == ["200", "50  ·  25% of previous", "0  ·  0% of previous"]
    assert chart.rows[1].y > chart.rows[0].y


def test_empty_counts_draw_nothing_and_do_not_divide_by_zero():
    assert count_chart([]).rows == []
    assert [bar.width for bar in count_chart([("a", 0), ("b", 0)]).rows] == [0, 0]


def test_before_after_pairs_show_the_change():
    chart = before_after_chart([{"label": "Decision", "before": 10, "after": 40}])
    before, after = chart.rows
    assert (before.tone, after.tone) == ("before", "after")
    assert after.width == BAR_SPACE and before.width == BAR_SPACE / 4
    assert after.text == "after 40  (+30)"


def test_days_ranges_mark_stages_whose_median_is_over_the_expected_days():
    chart = days_chart([
        {"label": "Decision", "count": 4, "median": 40.0, "p25": 20.0, "p75": 50.0, "expected_days": 30},
        {"label": "Purchase", "count": 4, "median": 5.0, "p25": 2.0, "p75": 9.0, "expected_days": 14},
        {"label": "Advocacy", "count": 0, "median": None, "p25": None, "p75": None, "expected_days": None}])
    decision, purchase, advocacy = chart.rows
    assert decision.late and not purchase.late and not advocacy.late
    assert decision.x25 < decision.target < decision.median < decision.x75
    assert advocacy.median is None and advocacy.text == "no records yet · never stalls"
    assert "median 40 d · middle half 20–50 d · 4 spans · expected 30 d" == decision.text
    assert chart.ticks[0] == (0.0, "0 d")


def test_timeline_places_spans_on_a_time_axis():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    now = start + timedelta(days=40)
    chart = timeline_chart([
        {"label": "Decision", "entered_at": start, "exited_at": start + timedelta(days=10),
         "days": 10, "stalled": False},
        {"label": "Purchase", "entered_at": start + timedelta(days=10), "exited_at": None,
         "days": 30, "stalled": True}], now)
    first, second = chart.rows
    assert first.x == 0 and second.x == first.width == BAR_SPACE / 4
    assert second.width == BAR_SPACE * 3 / 4
    assert second.tone == "late" and second.text == "30 d  ·  stalled  ·  now"
    assert [label for _, label in chart.ticks] == ["2026-01-01", "2026-02-10"]


def test_days_axis_fits_the_stays_not_a_far_target():
    stages = [{"label": "Onboarding", "count": 9, "median": 20.0, "p25": 10.0, "p75": 30.0, "expected_days": 45},
              {"label": "Retention", "count": 9, "median": 25.0, "p25": 12.0, "p75": 40.0, "expected_days": 365}]
    onboarding, retention = days_chart(stages).rows
    # 45 days is within reach of the data (40 d): on the axis; 365 days is not: an arrow.
    assert onboarding.target is not None and not onboarding.target_beyond
    assert retention.target is None and retention.target_beyond
    # The 75th percentile of 40 days takes most of the axis instead of a ninth of it.
    assert retention.x75 > RANGE_SPACE * 0.6
    assert "expected 365 d" in retention.text


def test_bars_carry_their_drill_down_links():
    chart = funnel_chart([{"label": "A", "reached": 3, "conversion": None, "strict": 2, "strict_conversion": None},
                          {"label": "B", "reached": 1, "conversion": 1 / 3, "strict": 1, "strict_conversion": 0.5}],
                         "strict", ["/r?stage=a", "/r?stage=b"])
    assert [(b.href, b.text) for b in chart.rows] == [("/r?stage=a", "2"), ("/r?stage=b", "1  ·  50% of previous")]
