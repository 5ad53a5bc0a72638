"""Tasks for record owners: which records get one (the map's ``tasks:`` section) and what it says.

A task is keyed by the record and the occasion: the stall of one stage entry, or the entry into a
stage the map marks. The key is what makes "at most one task per record and stall" hold: the
service creates a task only for a key it has not seen, and stores the key in the CRM task too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.classify import JourneyState
from mapping.model import JourneyMap, TaskRule


@dataclass(frozen=True, slots=True)
class TaskPlan:
    """A task to create for a record's owner."""

    key: str
    subject: str
    body: str
    due_at: datetime


#: The subject of a task a person asked for on a record that is not stalled (the map's subject
#: speaks of a stall).
REQUESTED_SUBJECT = "{record}: {action} ({stage})"


def plan_task(state: JourneyState, jmap: JourneyMap, name: str | None, now: datetime, *,
              requested: bool = False) -> TaskPlan | None:
    """The task ``state`` calls for under ``jmap.tasks``, or None (no rule, or no occasion).

    ``requested``: a person asked for the record's task (the records page). A stalled record then
    gets its stall's task even when the map's ``tasks:`` section is off or leaves stalls out (the
    same key as the automatic one, so never a second task for one stall); a record that is not
    stalled gets one for its stage entry. Records in an exit or not placed on the map get none.
    """
    rule = jmap.tasks or (TaskRule() if requested else None)
    if rule is None or state.unmapped or state.is_exit or state.entered_at is None:
        return None
    subject = rule.subject
    if state.stalled and (rule.on_stalled or requested):
        occasion = "stalled"
    elif state.stage in rule.on_enter:
        occasion = "entered"
    elif requested:
        occasion, subject = "requested", REQUESTED_SUBJECT
    else:
        return None
    action = state.next_best_action or "Review the record"
    subject = subject.format(record=name or state.id, stage=state.stage_label, action=action,
                             persona=state.persona_label, days_over=state.days_over)
    goal = next((s.goal for s in jmap.stages if s.key == state.stage and s.goal), None)
    body = action + (f"\nStage goal: {goal}" if goal else "") + "\n(Journey Sync)"
    entered = state.entered_at.strftime("%Y%m%dT%H%M%SZ")
    # lower case: HubSpot's search IN filter matches string values only in lower case
    return TaskPlan(key=f"{state.object}:{state.id}:{occasion}:{state.stage}:{entered}".lower(),
                    subject=subject[:255], body=body, due_at=now + timedelta(days=rule.due_in_days))
