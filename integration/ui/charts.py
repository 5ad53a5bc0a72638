"""Chart geometry for the pages' inline SVG: bars and ranges along an axis, numbers written as text.

The templates in ``templates/charts.html`` draw what these functions lay out, so every chart reads
without hovering: each bar carries its figure, each range its median, quartiles and target.

Lengths along the axis are in units of the chart's ``bar_space`` and drawn as percentages of the
SVG's width, and rows stack their label and figures above the bar: the SVG has no viewBox to
scale, so its text keeps the stylesheet's size (13 px) on a phone as on a desktop, and the bars
stretch to the width there is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from mapping.analytics import FUNNEL_TYPES

#: The bars' axis, in units (drawn as the SVG's whole width); a row's height in pixels: a line
#: for the label and the figures, then the bar.
BAR_SPACE = 330
ROW_HEIGHT = 40
#: Range rows hold the label, the box, and two lines of figures under it.
RANGE_ROW_HEIGHT = 78


@dataclass(frozen=True)
class Bar:
    """One bar: its label, length in pixels, and the text written beside it."""

    label: str
    y: int
    width: float
    text: str
    tone: str = "main"
    x: float = 0.0
    #: Where a click on the bar leads (the records behind it), if anywhere.
    href: str | None = None


@dataclass(frozen=True)
class Range:
    """One stage's spread of days: quartile box, median tick, target tick (None when absent)."""

    label: str
    y: int
    x25: float | None
    x75: float | None
    median: float | None
    target: float | None
    late: bool
    text: str
    #: The expected days lie beyond the axis (drawn as an arrow at its end).
    target_beyond: bool = False
    href: str | None = None


@dataclass
class Chart:
    """A laid-out chart: ``rows`` (bars or ranges), its height and optional axis ticks."""

    rows: list[Any]
    height: int
    ticks: list[tuple[float, str]] = field(default_factory=list)
    bar_space: int = BAR_SPACE

    def pct(self, length: float) -> str:
        """A length along the axis as a percentage of the SVG's width (an SVG length)."""
        return f"{length / self.bar_space * 100:.2f}%"


#: Ranges get a longer axis: their figures sit under the bar, not beside it.
RANGE_SPACE = 600


def _scale(value: float, top: float, space: int = BAR_SPACE) -> float:
    return round(space * value / top, 1) if top > 0 else 0.0


def _percent(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.0f}%"


def funnel_chart(stages: Sequence[dict[str, Any]], kind: str = "reached",
                 links: Sequence[str | None] = ()) -> Chart:
    """The funnel of type ``kind`` (see :data:`FUNNEL_TYPES`): records per stage with the
    conversion from the stage before; ``links`` are the bars' drill-down addresses, in order."""
    count, ratio, _ = FUNNEL_TYPES[kind]
    top = max((s[count] for s in stages), default=0)
    rows = []
    for i, stage in enumerate(stages):
        conversion = _percent(stage[ratio])
        text = f"{stage[count]:,}" + (f"  ·  {conversion} of previous" if conversion else "")
        rows.append(Bar(stage["label"], i * ROW_HEIGHT, _scale(stage[count], top), text,
                        href=links[i] if i < len(links) else None))
    return Chart(rows, len(rows) * ROW_HEIGHT)


def count_chart(items: Iterable[tuple[str, int]], tone: str = "main",
                links: Sequence[str | None] = ()) -> Chart:
    """Plain bars for counts (records per stage, stalled per owner...); ``links`` are the bars'
    drill-down addresses, in order."""
    items = list(items)
    top = max((n for _, n in items), default=0)
    rows = [Bar(label, i * ROW_HEIGHT, _scale(n, top), f"{n:,}", tone,
                href=links[i] if i < len(links) else None)
            for i, (label, n) in enumerate(items)]
    return Chart(rows, len(rows) * ROW_HEIGHT)


def before_after_chart(stages: Sequence[dict[str, Any]]) -> Chart:
    """Two bars per stage: records there now and records there under the previewed map."""
    top = max((max(s["before"], s["after"]) for s in stages), default=0)
    rows = []
    for i, stage in enumerate(stages):
        y = i * ROW_HEIGHT * 2
        delta = stage["after"] - stage["before"]
        change = f"  ({delta:+,})" if delta else ""
        rows.append(Bar(stage["label"], y, _scale(stage["before"], top),
                        f"now {stage['before']:,}", "before"))
        rows.append(Bar("", y + ROW_HEIGHT - 8, _scale(stage["after"], top),
                        f"after {stage['after']:,}{change}", "after"))
    return Chart(rows, len(stages) * ROW_HEIGHT * 2)


def _ticks(top: float) -> list[tuple[float, str]]:
    step = next((s for s in (1, 2, 5, 10, 20, 30, 50, 100, 200, 500, 1000) if top / s <= 8), 2000)
    return [(_scale(d, top, RANGE_SPACE), f"{d} d") for d in range(0, int(top) + 1, step)]


#: Expected days further than this multiple of the data's reach are drawn off the axis, so a
#: 365-day target does not squash stays of a few weeks.
TARGET_REACH = 1.5


def days_chart(stages: Sequence[dict[str, Any]], links: Sequence[str | None] = ()) -> Chart:
    """Time in stage: the p25–p75 box, the median and the expected days of every stage.

    The axis fits the data (the 75th percentiles and medians); an expected-days mark within
    :data:`TARGET_REACH` times that is drawn on it, one further out becomes an arrow at the end."""
    data_top = max([v for s in stages for v in (s.get("p75"), s.get("median")) if v is not None] or [0])
    targets = [s["expected_days"] for s in stages if s.get("expected_days")]
    reach = data_top * TARGET_REACH if data_top else max(targets or [0])
    top = max([data_top, *(t for t in targets if t <= reach)]) * 1.1

    def place(days: float | None) -> float | None:
        return None if days is None else _scale(days, top, RANGE_SPACE)

    rows = []
    for i, s in enumerate(stages):
        expected = s.get("expected_days")
        if s["median"] is None:
            text = "no records yet"
        else:
            text = (f"median {s['median']:g} d · middle half {s['p25']:g}–{s['p75']:g} d"
                    f" · {s['count']:,} spans")
        text += f" · expected {expected} d" if expected else " · never stalls"
        late = s["median"] is not None and expected is not None and s["median"] > expected
        beyond = expected is not None and expected > top
        rows.append(Range(s["label"], i * RANGE_ROW_HEIGHT, place(s["p25"]), place(s["p75"]),
                          place(s["median"]), None if beyond else place(expected), late, text,
                          target_beyond=beyond, href=links[i] if i < len(links) else None))
    return Chart(rows, len(rows) * RANGE_ROW_HEIGHT + 18, _ticks(top) if top else [],
                 bar_space=RANGE_SPACE)


def timeline_chart(spans: Sequence[dict[str, Any]], now: datetime) -> Chart:
    """One record's journey on a time axis: a bar per span from entry to exit, stalled spans marked."""
    if not spans:
        return Chart([], 0)
    start = min(s["entered_at"] for s in spans)
    total = max(((s["exited_at"] or now) - start).total_seconds() for s in spans) or 1.0
    end = start + timedelta(seconds=total)
    ticks = [(0.0, f"{start:%Y-%m-%d}"), (float(BAR_SPACE), f"{end:%Y-%m-%d}")]
    rows = []
    for i, s in enumerate(spans):
        x = _scale((s["entered_at"] - start).total_seconds(), total)
        width = max(_scale(((s["exited_at"] or now) - s["entered_at"]).total_seconds(), total), 2.0)
        text = f"{s['days']:,} d" + ("  ·  stalled" if s["stalled"] else "") + (
            "" if s["exited_at"] else "  ·  now")
        rows.append(Bar(s["label"], i * ROW_HEIGHT, width, text,
                        "late" if s["stalled"] else "main", x))
    return Chart(rows, len(rows) * ROW_HEIGHT + 18, ticks)
