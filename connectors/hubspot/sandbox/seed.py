"""The ``hubspot`` part of a seed file (format: shared/fixtures/README.md), validated."""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, ValidationError

from connectors.seedfile import SeedError

from .schema import CONTACTS, DEALS, DEFAULT_PIPELINE, LIFECYCLE_STAGES

DEFAULT_PORTAL_ID = 62515
PropertyValue = Union[str, StrictBool, int, float, None]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryEntrySeed(_Strict):
    value: str
    timestamp: AwareDatetime
    sourceType: str = "CRM_UI"


class ObjectSeed(_Strict):
    id: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,17}$")
    properties: dict[str, PropertyValue] = {}
    history: dict[str, list[HistoryEntrySeed]] = {}
    #: Associated records by object type (``contacts`` on a deal, ``deals`` on a contact).
    associations: dict[str, list[str]] = {}


class StageSeed(_Strict):
    id: str = Field(min_length=1)
    label: str
    displayOrder: int = 0
    metadata: dict[str, str] = {}


class PipelineSeed(_Strict):
    id: str = Field(min_length=1)
    label: str
    displayOrder: int = 0
    stages: list[StageSeed] = Field(min_length=1)


class ValidationRuleSeed(_Strict):
    """A portal validation rule: when every ``when`` property holds its value, ``required`` must
    have one (a conditional required property)."""

    objectType: Literal["deals", "contacts"]
    required: str = Field(min_length=1)
    when: dict[str, str] = Field(min_length=1)
    message: str | None = None


class OwnerSeed(_Strict):
    """A user who can own records (``/crm/v3/owners``)."""

    id: str = Field(pattern=r"^[1-9][0-9]{0,17}$")
    email: str
    firstName: str = ""
    lastName: str = ""


class HubSpotSeed(_Strict):
    portal_id: int = Field(default=DEFAULT_PORTAL_ID, gt=0)
    owners: list[OwnerSeed] = []
    deal_pipelines: list[PipelineSeed] = Field(
        default_factory=lambda: [PipelineSeed.model_validate(DEFAULT_PIPELINE)])
    deals: list[ObjectSeed] = []
    contacts: list[ObjectSeed] = []
    validation_rules: list[ValidationRuleSeed] = []


def property_text(value: PropertyValue) -> str | None:
    """A seed value as HubSpot stores it: always a string (booleans as ``true``/``false``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _loc_path(loc: tuple[Any, ...]) -> str:
    path = "hubspot"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


#: The object type a seed record of each list may be associated with.
ASSOCIABLE = {"deals": "contacts", "contacts": "deals"}


def _association_problems(seed: HubSpotSeed) -> list[str]:
    """Associations must name a record of the other type that the seed gives an id."""
    problems: list[str] = []
    ids = {kind: {r.id for r in records if r.id} for kind, records in
           (("deals", seed.deals), ("contacts", seed.contacts))}
    for kind, records in (("deals", seed.deals), ("contacts", seed.contacts)):
        for i, record in enumerate(records):
            for other, targets in record.associations.items():
                where = f"hubspot.{kind}[{i}].associations.{other}"
                if other != ASSOCIABLE[kind]:
                    problems.append(f"{where}: a {kind[:-1]} can be associated with "
                                    f"{ASSOCIABLE[kind]} only")
                    continue
                for j, target in enumerate(targets):
                    if target not in ids[other]:
                        problems.append(f"{where}[{j}]: no {other[:-1]} with id {target!r} in the seed")
    return problems


def association_pairs(seed: HubSpotSeed) -> set[tuple[str, str]]:
    """Every (deal id, contact id) pair the seed associates, from either side."""
    pairs = {(deal.id, contact) for deal in seed.deals if deal.id
             for contact in deal.associations.get("contacts", ())}
    pairs |= {(deal, contact.id) for contact in seed.contacts if contact.id
              for deal in contact.associations.get("deals", ())}
    return pairs


def _semantic_problems(seed: HubSpotSeed) -> list[str]:
    problems: list[str] = _association_problems(seed)
    stages_by_pipeline = {p.id: {s.id for s in p.stages} for p in seed.deal_pipelines}
    lifecycle = {o["value"] for o in LIFECYCLE_STAGES}
    for kind, records in (("deals", seed.deals), ("contacts", seed.contacts)):
        seen: set[str] = set()
        for i, record in enumerate(records):
            where = f"hubspot.{kind}[{i}]"
            if record.id is not None:
                if record.id in seen:
                    problems.append(f"{where}.id: duplicate id {record.id}")
                seen.add(record.id)
            props = {k: property_text(v) for k, v in record.properties.items()}
            if kind == "deals":
                pipeline = props.get("pipeline") or seed.deal_pipelines[0].id
                stage = props.get(DEALS.stage_property)
                if pipeline not in stages_by_pipeline:
                    problems.append(f"{where}.properties.pipeline: unknown pipeline {pipeline!r}")
                elif stage is not None and stage not in stages_by_pipeline[pipeline]:
                    problems.append(f"{where}.properties.dealstage: {stage!r} is not a stage of "
                                    f"pipeline {pipeline!r}")
            else:
                stage = props.get(CONTACTS.stage_property)
                if stage is not None and stage not in lifecycle:
                    problems.append(f"{where}.properties.lifecyclestage: unknown lifecycle stage "
                                    f"{stage!r}")
            for name, entries in record.history.items():
                hwhere = f"{where}.history.{name}"
                if not entries:
                    problems.append(f"{hwhere}: history must not be empty")
                    continue
                if name not in props or props[name] is None:
                    problems.append(f"{hwhere}: history for a property the record has no value for")
                elif entries[-1].value != props[name]:
                    problems.append(f"{hwhere}[{len(entries) - 1}].value: the last entry "
                                    f"{entries[-1].value!r} must equal the current value "
                                    f"{props[name]!r}")
                for j in range(1, len(entries)):
                    if entries[j].timestamp < entries[j - 1].timestamp:
                        problems.append(f"{hwhere}[{j}].timestamp: history must be oldest first")
    return problems


def parse_seed(data: Any) -> HubSpotSeed:
    """Validate the seed's ``hubspot`` value; :class:`SeedError` lists every problem, one a line."""
    try:
        seed = HubSpotSeed.model_validate({} if data is None else data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{_loc_path(err['loc'])}: {msg}")
        raise SeedError("\n".join(lines)) from None
    problems = _semantic_problems(seed)
    if problems:
        raise SeedError("\n".join(problems))
    return seed
