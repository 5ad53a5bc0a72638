"""A record's journey is computed once per sync: the state and the stored events share it."""
from __future__ import annotations

import sys

from integration.sync import verdicts
from mapping.timeline import journey_runs, timeline
from tests.mapping.helpers import days_ago, opportunity, small_map


def test_judging_computes_the_journey_once_and_the_events_reuse_it(monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[0].id)
        return journey_runs(*args, **kwargs)

    monkeypatch.setattr(verdicts, "journey_runs", counted)
    monkeypatch.setattr(sys.modules["mapping.classify"], "journey_runs", counted)
    record = opportunity("Closed Won", ("Prospecting", 40), ("Proposal", 20), ("Closed Won", 5))
    now = days_ago(0)
    verdict = verdicts.judge(record, small_map(), now, {})
    events = verdicts.journey_events(verdict, small_map(), now)
    assert len(calls) == 1
    assert [e["to_stage"] for e in events] == [s.stage for s in timeline(record, small_map(), now)]
    assert events[-1]["to_stage"] == verdict.state.stage
