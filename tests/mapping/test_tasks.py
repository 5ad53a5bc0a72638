"""Which task a record calls for: the map's rule, and what a person asking for one adds."""
from __future__ import annotations

from mapping import classify, parse_map
from mapping.tasks import REQUESTED_SUBJECT, plan_task
from tests.mapping.helpers import NOW, SMALL_MAP_YAML, opportunity

WITH_TASKS = parse_map(SMALL_MAP_YAML + "tasks: {on_stalled: true, subject: '{record} stalled'}\n")
WITHOUT = parse_map(SMALL_MAP_YAML)
STALLED = opportunity("Qualification", ("Prospecting", 60), ("Qualification", 30))
CALM = opportunity("Qualification", ("Prospecting", 60), ("Qualification", 3))
LOST = opportunity("Closed Lost", ("Prospecting", 60), ("Closed Lost", 3))


def plan(record, jmap, **kw):
    return plan_task(classify(record, jmap, NOW), jmap, "Acme", NOW, **kw)


def test_asking_for_a_stalled_records_task_gives_the_same_key_as_the_rule():
    automatic, asked = plan(STALLED, WITH_TASKS), plan(STALLED, WITH_TASKS, requested=True)
    assert automatic is not None and asked.key == automatic.key and ":stalled:" in asked.key
    assert asked.subject == "Acme stalled"


def test_without_a_tasks_section_only_a_request_gives_a_task():
    assert plan(STALLED, WITHOUT) is None
    asked = plan(STALLED, WITHOUT, requested=True)
    assert asked.key == plan(STALLED, WITH_TASKS).key  # the stall's key, whatever the map says
    assert asked.subject == "Consideration stalled: Re-engage"  # the default subject


def test_a_record_not_stalled_gets_a_task_for_its_stage_entry_only_on_request():
    assert plan(CALM, WITH_TASKS) is None
    asked = plan(CALM, WITH_TASKS, requested=True)
    assert ":requested:consideration:" in asked.key
    assert asked.subject == REQUESTED_SUBJECT.format(record="Acme", action="Send the comparison",
                                                     stage="Consideration")


def test_closed_records_get_none_even_on_request():
    assert plan(LOST, WITH_TASKS, requested=True) is None
