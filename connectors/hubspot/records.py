"""HubSpot objects as the neutral :class:`CrmRecord`."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from connectors.salesforce.ids import to18
from mapping.records import CrmRecord, Identity, RecordRef, StageChange

from .properties import (MODIFIED_PROPERTY, SALESFORCE_ID_PROPERTIES, STAGE_PROPERTY, PropertyMap,
                         empty_to_none, parse_bool, parse_float, parse_hubspot_datetime, parse_int)

ENTERED = "hs_v2_date_entered_"
EXITED = "hs_v2_date_exited_"
FIELD_PARSERS = {"amount": parse_float, "employee_count": parse_int}
WRITEBACK_PARSERS = {"stalled": parse_bool, "stage_entered_at": parse_hubspot_datetime,
                     "journey_updated_at": parse_hubspot_datetime, "days_in_stage": parse_int,
                     "days_over_expected": parse_int}


def stage_date_properties(stage_values: Iterable[str]) -> list[str]:
    """The stage-calculated properties to ask for by name (they are not listed by the API)."""
    return [prefix + value for value in stage_values for prefix in (ENTERED, EXITED)]


def history_from_entries(entries: Iterable[Mapping[str, Any]]) -> tuple[StageChange, ...]:
    """``propertiesWithHistory`` entries (any order) as stage changes, oldest first."""
    changes = [StageChange(e["value"], parse_hubspot_datetime(e["timestamp"]))
               for e in entries if e.get("value")]
    return tuple(sorted(changes, key=lambda c: c.entered_at))


def history_from_stage_dates(properties: Mapping[str, str | None]) -> tuple[StageChange, ...]:
    """The stage path rebuilt from ``hs_v2_date_entered_*``, oldest first."""
    changes = [StageChange(name[len(ENTERED):], moment) for name, value in properties.items()
               if name.startswith(ENTERED) and (moment := parse_hubspot_datetime(value))]
    return tuple(sorted(changes, key=lambda c: c.entered_at))


def current_stage_entered(obj: str, properties: Mapping[str, str | None]) -> datetime | None:
    """``hs_v2_date_entered_{current stage}``, when the portal provides it."""
    stage = properties.get(STAGE_PROPERTY[obj])
    return parse_hubspot_datetime(properties.get(ENTERED + stage)) if stage else None


def _name(obj: str, properties: Mapping[str, str | None]) -> str | None:
    if obj == "deal":
        return empty_to_none(properties.get("dealname"))
    person = " ".join(p for p in (properties.get("firstname"), properties.get("lastname")) if p)
    return person or empty_to_none(properties.get("email"))


def identity_of(obj: str, properties: Mapping[str, str | None]) -> Identity:
    """Who the record stands for: the contact's e-mail, and the Salesforce records HubSpot's own
    Salesforce integration says it is synced with (ids in the 18-character form the Salesforce API
    answers with; the integration may hold the 15-character form)."""
    same_as = tuple(RecordRef("salesforce", kind, to18(value.strip()))
                    for kind, prop in SALESFORCE_ID_PROPERTIES[obj]
                    if (value := empty_to_none(properties.get(prop))) and value.strip())
    if obj == "deal":
        return Identity("deal", None, same_as)
    return Identity("person", empty_to_none(properties.get("email")), same_as)


def to_record(obj: str, item: Mapping[str, Any], names: PropertyMap,
              history: tuple[StageChange, ...] | None, url: str | None) -> CrmRecord:
    """A ``SimplePublicObject`` body as a CrmRecord; ``history`` overrides the stage-date rebuild."""
    props: dict[str, str | None] = dict(item.get("properties") or {})
    fields = {}
    for canonical, prop in names.field_properties(obj).items():
        parse = FIELD_PARSERS.get(canonical, empty_to_none)
        fields[canonical] = parse(props.get(prop))
    writeback = {}
    for definition in names.writeback_properties(obj):
        parse = WRITEBACK_PARSERS.get(definition.canonical, empty_to_none)
        writeback[definition.canonical] = parse(props.get(definition.name))
    modified = parse_hubspot_datetime(props.get(MODIFIED_PROPERTY[obj])) or parse_hubspot_datetime(item["updatedAt"])
    return CrmRecord(
        crm="hubspot", object=obj, id=str(item["id"]),
        stage_value=empty_to_none(props.get(STAGE_PROPERTY[obj])),
        created_at=parse_hubspot_datetime(props.get("createdate")) or parse_hubspot_datetime(item["createdAt"]),
        modified_at=modified,
        pipeline=empty_to_none(props.get("pipeline")) if obj == "deal" else None,
        name=_name(obj, props),
        history=history if history is not None else history_from_stage_dates(props),
        stage_entered_at=current_stage_entered(obj, props),
        fields=fields, raw=_classifiable(obj, props, names), writeback=writeback, url=url,
        identity=identity_of(obj, props))


def _classifiable(obj: str, props: Mapping[str, str | None], names: PropertyMap) -> dict[str, str]:
    """The properties persona rules may read: set ones, without our write-back properties (they
    are ``writeback``) or the modification stamp, so our own write-back leaves the snapshot as is."""
    ours = {p.name for p in names.writeback_properties(obj)} | {MODIFIED_PROPERTY[obj]}
    return {k: v for k, v in props.items() if v not in (None, "") and k not in ours}
