"""Records the map does not place, counted by reason, with what fixes each group.

A record whose stage is ``unmapped`` is not on the journey: nothing is written back for it and no
chart counts it. The reason is worked out from what is stored (the record's object, the object its
stage follows, its CRM stage and pipeline) against the map in force, so it is right the moment a
new map is saved, before any sync (see :mod:`mapping.unmapped`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from connectors import registry
from integration.store.models import RecordState
from mapping import JourneyMap
from mapping.model import UNMAPPED
from mapping.unmapped import (NAMED_SINCE, NO_SOURCE, NO_STAGE, REASONS, STAGE_NOT_NAMED,
                              unmapped_reason)


@dataclass(frozen=True)
class UnmappedGroup:
    """Records not placed for one reason and one CRM stage: how many, why, and the fix.
    ``in_editor`` says the fix is made in the mapping editor."""

    reason: str
    object: str
    source_object: str
    crm_stage: str | None
    pipeline: str | None
    count: int
    why: str
    fix: str
    in_editor: bool


def unmapped_groups(session: Session, connection_id: int, crm: str,
                    jmap: JourneyMap) -> list[UnmappedGroup]:
    """The connection's unplaced records in groups, biggest first within each reason."""
    # The object whose stage a record follows is stored only when it differs from its own.
    follows = RecordState.stage_object
    query = (select(RecordState.object, follows, RecordState.crm_stage, RecordState.pipeline,
                    func.count())
             .where(RecordState.connection_id == connection_id, RecordState.stage == UNMAPPED)
             .group_by(RecordState.object, follows, RecordState.crm_stage, RecordState.pipeline))
    groups = []
    for obj, source_object, crm_stage, pipeline, count in session.exec(query):
        source_object = source_object or obj
        reason = unmapped_reason(jmap, crm, source_object, crm_stage, pipeline)
        why, fix = _explain(reason, crm, obj, source_object, crm_stage, pipeline)
        groups.append(UnmappedGroup(reason, obj, source_object, crm_stage, pipeline, count, why,
                                    fix, in_editor=reason in (NO_SOURCE, STAGE_NOT_NAMED)))
    return sorted(groups, key=lambda g: (REASONS.index(g.reason), -g.count, g.object,
                                         g.crm_stage or ""))


def _explain(reason: str, crm: str, obj: str, source_object: str, crm_stage: str | None,
             pipeline: str | None) -> tuple[str, str]:
    """(why, fix) in words, the CRM plug-in's own for records without a stage value."""
    spec = registry.spec(crm)
    if reason == NO_SOURCE:
        return (f"The map has no {spec.label} {source_object} source, so it places none of them.",
                f"Add sources.{crm}.{source_object} in the mapping editor: the field holding the "
                "stage and the journey stage of each value.")
    if reason == NO_STAGE:
        hint = spec.stage_hint(obj, source_object)
        return ((hint.why, hint.fix) if hint else
                (f"The {obj} holds no stage value.", f"Give it one in {spec.label}."))
    where = f" in pipeline {pipeline}" if pipeline else ""
    if reason == NAMED_SINCE:
        return (f"The map in force names the {spec.label} {source_object} stage “{crm_stage}”"
                f"{where} since these records were last synced.",
                "Nothing to do: the next sync places them.")
    return (f"The map does not name the {spec.label} {source_object} stage “{crm_stage}”{where}.",
            "Map it to a journey stage or an exit in the mapping editor; the next sync places "
            "these records.")


def unmapped_summary(session: Session, connection_id: int, crm: str,
                     jmap: JourneyMap) -> dict[str, Any]:
    """How many records the map does not place, in all and by reason, with every group: what the
    coverage report adds to the CRM's stages."""
    groups = unmapped_groups(session, connection_id, crm, jmap)
    by_reason = {reason: sum(g.count for g in groups if g.reason == reason) for reason in REASONS}
    return {"total": sum(by_reason.values()), "by_reason": by_reason,
            "groups": [asdict(g) for g in groups]}


def ownerless_counts(session: Session, connection_id: int) -> dict[str, int]:
    """Records on the map that have no owner in the CRM, by object: their tasks go to the
    connection's CRM user, and no owner's list shows them."""
    query = (select(RecordState.object, func.count())
             .where(RecordState.connection_id == connection_id, RecordState.owner_id.is_(None),
                    RecordState.stage != UNMAPPED)
             .group_by(RecordState.object))
    return dict(sorted(session.exec(query)))
