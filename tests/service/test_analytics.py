"""Stored journey events read back as timeline spans."""
from __future__ import annotations

from datetime import datetime, timezone

from integration.analytics import spans_from_events
from integration.store.models import JourneyEvent
from mapping import default_map

T = datetime(2026, 1, 1, tzinfo=timezone.utc)


def event(stage, day, exit_day=None):
    return JourneyEvent(connection_id=1, object="deal", crm_id="1", seq=0, to_stage=stage,
                        occurred_at=T.replace(day=day),
                        exited_at=T.replace(day=exit_day) if exit_day else None, crm_stages=[])


def test_spans_measure_days_and_stalls_against_the_map():
    jmap = default_map()
    spans = spans_from_events([event("awareness", 1, 20), event("consideration", 20)], jmap,
                              T.replace(day=25))
    assert [(s.stage, s.label, s.days, s.stalled) for s in spans] == [
        ("awareness", "Awareness", 19, True), ("consideration", "Consideration", 5, False)]


def test_a_stage_the_new_map_dropped_keeps_its_key_until_the_next_sync():
    spans = spans_from_events([event("nurture", 1, 5), event("lost", 5)], default_map(),
                              T.replace(day=30))
    assert [(s.label, s.stalled) for s in spans] == [("nurture", False), ("Lost", False)]
