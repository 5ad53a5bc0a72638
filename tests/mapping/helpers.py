"""Record builders and a small map shared by the mapping tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from mapping import CrmRecord, StageChange, parse_map

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def days_ago(days: float) -> datetime:
    """A moment ``days`` before :data:`NOW`."""
    return NOW - timedelta(days=days)


def opportunity(stage: str | None, *history: tuple[str, float], created: float = 200, **extra: Any) -> CrmRecord:
    """A Salesforce opportunity in ``stage`` whose history entries are (stage, days ago)."""
    return CrmRecord(
        crm="salesforce", object="opportunity", id=extra.pop("id", "006A"), stage_value=stage,
        created_at=days_ago(created), modified_at=days_ago(0),
        history=tuple(StageChange(value, days_ago(ago)) for value, ago in history), **extra)


SMALL_MAP_YAML = """\
version: 1
name: Small
stages:
  - {key: awareness, label: Awareness, expected_days: 10}
  - {key: consideration, label: Consideration, expected_days: 20}
  - {key: decision, label: Decision}
exits:
  - {key: lost, label: Lost}
sources:
  salesforce:
    opportunity:
      field: StageName
      stages: {Prospecting: awareness, Qualification: consideration, Needs Analysis: consideration,
               Proposal: decision, Closed Lost: lost}
  hubspot:
    deal:
      field: dealstage
      stages: {closedlost: lost}
      pipelines:
        default: {appointmentscheduled: consideration, contractsent: decision}
        renewals: {"123": decision, closedlost: awareness}
personas:
  - key: big
    label: Big buyer
    when: [{field: amount, op: gte, value: 100000}]
default_persona: general
actions:
  - {stage: consideration, stalled: true, action: Re-engage}
  - {stage: consideration, persona: big, action: Send the ROI case study}
  - {stage: consideration, crm: hubspot, action: Invite to webinar}
  - {stage: consideration, action: Send the comparison}
  - {stage: lost, action: Nurture}
"""


def small_map():
    """A three-stage map with one exit, one persona and a few actions."""
    return parse_map(SMALL_MAP_YAML)
