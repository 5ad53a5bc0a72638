"""Why a record is not placed on the map (its stage is ``unmapped``), and what fixes it.

Three reasons, in the order they are checked:

- ``no_source``: the map has no source for the record's CRM object (``sources.<crm>.<object>``);
- ``no_stage``: the record holds no stage value at all (a Salesforce contact with no opportunity
  contact role, a HubSpot contact without a lifecycle stage); the CRM plug-in says why and what to
  do, in its own terms;
- ``stage_not_named``: the map's source does not name the record's CRM stage (a new picklist
  value, a new pipeline);
- ``named_since``: the map in force names the stage now (saved after the record's last sync); the
  next sync places the record.
"""
from __future__ import annotations

from dataclasses import dataclass

from mapping.model import JourneyMap

NO_SOURCE, NO_STAGE, STAGE_NOT_NAMED = "no_source", "no_stage", "stage_not_named"
NAMED_SINCE = "named_since"
#: The reasons in the order a page lists them.
REASONS = (STAGE_NOT_NAMED, NO_STAGE, NO_SOURCE, NAMED_SINCE)


@dataclass(frozen=True, slots=True)
class StageHint:
    """A CRM plug-in's words for a record without a stage value: why, and what to do."""

    why: str
    fix: str


def unmapped_reason(jmap: JourneyMap, crm: str, source_object: str, stage_value: str | None,
                    pipeline: str | None) -> str:
    """Why a record of ``crm`` whose stage follows ``source_object`` is not on ``jmap``: one of
    :data:`REASONS`."""
    source = jmap.sources.get(crm, {}).get(source_object)
    if source is None:
        return NO_SOURCE
    if stage_value is None:
        return NO_STAGE
    return STAGE_NOT_NAMED if source.lookup(stage_value, pipeline) is None else NAMED_SINCE
