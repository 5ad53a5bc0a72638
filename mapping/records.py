"""The neutral record every connector produces and the classifier consumes.

Connectors own every CRM quirk; by the time a record reaches this module it says only what the
journey model needs: which CRM object it is, where its stage stands, how it got there, the fields
persona rules read, and the write-back values the CRM currently holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Mapping

#: Canonical record fields that every connector fills (None where the CRM has no value).
CANONICAL_FIELDS: tuple[str, ...] = (
    "amount",
    "industry",
    "employee_count",
    "job_title",
    "lead_source",
    "country",
    "owner_id",
    "company",
)

#: Canonical names of the values Journey Sync writes back into the CRM. Connectors translate these
#: to their own field or property names.
WRITEBACK_FIELDS: tuple[str, ...] = (
    "journey_stage",
    "persona",
    "next_best_action",
    "stalled",
    "stage_entered_at",
    "stalls_at",
    "journey_updated_at",
)

#: Day counts of the record's stage: whole days in it, and whole days past its expected days (0
#: until it stalls). A CRM that computes them itself (Salesforce formula fields over the two dates)
#: leaves them out of the values it reports holding, and is never written them; a CRM that cannot
#: (HubSpot: no "today" in calculation properties) reports them and gets them written, only when a
#: whole-day value changes.
DAY_COUNT_FIELDS: tuple[str, ...] = ("days_in_stage", "days_over_expected")


@dataclass(frozen=True, slots=True)
class StageChange:
    """One entry of a record's stage history: the CRM stage value and when the record entered it."""

    value: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class CrmStage:
    """One real stage of a CRM object, for the map's coverage report and the mapping editor.

    ``value`` is the API value the map names; ``pipeline`` is set for objects with pipelines (HubSpot
    deals); ``order`` is the CRM's display order.
    """

    object: str  # "opportunity", "lead", "deal", "contact"
    value: str
    label: str
    order: int = 0
    pipeline: str | None = None
    pipeline_label: str | None = None
    is_closed: bool = False
    is_won: bool = False


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Names one record of a CRM (``salesforce``/``contact``/``0035g...``), whichever connection holds it."""

    crm: str
    object: str
    id: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who or what a record stands for, so records of different CRMs can be linked.

    ``kind`` is ``person`` (contacts, leads) or ``deal`` (opportunities, deals); ``email`` is the
    person's address as the CRM holds it; ``same_as`` names records of other CRMs that the CRM itself
    says are the same (HubSpot's ``salesforcecontactid``, ``hs_salesforceopportunityid``...).
    """

    kind: Literal["person", "deal"]
    email: str | None = None
    same_as: tuple[RecordRef, ...] = ()


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """A CRM record as the journey model sees it.

    ``crm`` and ``object`` name the source (``salesforce``/``opportunity``, ``hubspot``/``deal``...).
    ``stage_object`` names the map source whose stage mapping applies; it differs from ``object``
    when a record's stage follows another object (a Salesforce contact follows its opportunities).
    ``stage_value`` is the CRM's API value (never a label). ``history`` may be empty or unordered.
    ``stage_entered_at`` is the CRM's own "entered current stage" date where it has one.
    ``fields`` holds the canonical persona fields, ``raw`` the CRM's own field values (for
    ``crm.<FieldName>`` persona conditions), ``writeback`` the values of our write-back fields the
    CRM holds now, keyed by the canonical names in :data:`WRITEBACK_FIELDS`. ``identity`` links the
    record to the same person or deal in other CRMs (None for records that stand alone).
    """

    crm: str
    object: str
    id: str
    stage_value: str | None
    created_at: datetime
    modified_at: datetime
    stage_object: str | None = None
    pipeline: str | None = None
    name: str | None = None
    history: tuple[StageChange, ...] = ()
    stage_entered_at: datetime | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    writeback: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    identity: Identity | None = None

    @property
    def source_object(self) -> str:
        """The map source (``sources.<crm>.<source_object>``) that classifies this record."""
        return self.stage_object or self.object
