"""HubSpot property names for canonical fields, write-back property definitions, value conversion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from connectors.base import ConfigError
from mapping.records import CANONICAL_FIELDS, DAY_COUNT_FIELDS, WRITEBACK_FIELDS

OBJECTS = ("deal", "contact")
#: Path names of the CRM objects API for each object kind.
OBJECT_PATHS = {"deal": "deals", "contact": "contacts"}
#: HubSpot's object type ids, used in record URLs.
OBJECT_TYPE_IDS = {"deal": "0-3", "contact": "0-1"}
STAGE_PROPERTY = {"deal": "dealstage", "contact": "lifecyclestage"}
#: Contacts filter on ``lastmodifieddate``; other objects on ``hs_lastmodifieddate``.
MODIFIED_PROPERTY = {"deal": "hs_lastmodifieddate", "contact": "lastmodifieddate"}
NAME_PROPERTIES = {"deal": ("dealname",), "contact": ("firstname", "lastname", "email")}
#: Properties HubSpot's own Salesforce integration keeps: the Salesforce record a HubSpot record
#: is synced with, as (object kind there, property here).
SALESFORCE_ID_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "deal": (("opportunity", "hs_salesforceopportunityid"),),
    "contact": (("contact", "salesforcecontactid"), ("lead", "salesforceleadid")),
}
GROUP_NAME = "journey"
GROUP_LABEL = "Journey Sync"

#: Where each canonical persona field lives on each object (None: the object has no such field).
#: A deal names its company only through an association (a call per page); a portal keeping the
#: name on the deal can say where with ``property_names: {"deal.company": ...}``.
DEFAULT_FIELD_PROPERTIES: dict[str, dict[str, str | None]] = {
    "deal": {"amount": "amount", "industry": None, "employee_count": None, "job_title": None,
             "lead_source": "hs_analytics_source", "country": None, "owner_id": "hubspot_owner_id",
             "company": None},
    "contact": {"amount": None, "industry": "industry", "employee_count": "numemployees",
                "job_title": "jobtitle", "lead_source": "hs_analytics_source", "country": "country",
                "owner_id": "hubspot_owner_id", "company": "company"},
}


@dataclass(frozen=True)
class WritebackProperty:
    """A property Journey Sync creates and writes: canonical name, HubSpot definition."""

    canonical: str
    name: str
    label: str
    type: str
    field_type: str

    def create_body(self, choices: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """The ``PropertyCreate`` body for this property; ``choices`` are an enumeration's
        (value, label) options."""
        body: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type,
                                "fieldType": self.field_type, "groupName": GROUP_NAME,
                                "description": f"Written by Journey Sync ({self.canonical})."}
        if self.type == "bool":
            body["options"] = enumeration_options([("true", "Yes"), ("false", "No")])
        elif self.type == "enumeration":
            body["options"] = enumeration_options(choices)
        return body


def enumeration_options(choices: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """HubSpot ``Option`` objects for (value, label) pairs, displayed in the given order."""
    return [{"label": label, "value": value, "displayOrder": i, "hidden": False}
            for i, (value, label) in enumerate(choices)]


WRITEBACK_DEFINITIONS: dict[str, tuple[str, str, str, str]] = {
    "journey_stage": ("journey_stage", "Journey stage", "enumeration", "select"),
    "persona": ("journey_persona", "Persona", "enumeration", "select"),
    "next_best_action": ("journey_next_best_action", "Next best action", "string", "textarea"),
    "stalled": ("journey_stalled", "Stalled", "bool", "booleancheckbox"),
    "stage_entered_at": ("journey_stage_entered_at", "Journey stage entered at", "datetime", "date"),
    "stalls_at": ("journey_stalls_at", "Journey stalls at", "datetime", "date"),
    "journey_updated_at": ("journey_updated_at", "Journey updated at", "datetime", "date"),
    # Numbers a list can filter on ("days over expected is greater than 30"). HubSpot's calculation
    # properties cannot name the current time through the properties API, so Journey Sync writes
    # them, only when a whole-day value changes (see mapping.records.DAY_COUNT_FIELDS).
    "days_in_stage": ("journey_days_in_stage", "Journey days in stage", "number", "number"),
    "days_over_expected": ("journey_days_over_expected", "Journey days over expected", "number", "number"),
}
#: Everything Journey Sync writes to a HubSpot record, by canonical name.
HUBSPOT_WRITEBACK_FIELDS: tuple[str, ...] = WRITEBACK_FIELDS + DAY_COUNT_FIELDS


class PropertyMap:
    """Canonical name -> HubSpot property name, per object, with the ``property_names`` overrides.

    Overrides are keyed by canonical name (both objects) or ``deal.<name>``/``contact.<name>``.
    """

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        known = set(CANONICAL_FIELDS) | set(HUBSPOT_WRITEBACK_FIELDS)
        self._names = {obj: {**DEFAULT_FIELD_PROPERTIES[obj],
                             **{c: d[0] for c, d in WRITEBACK_DEFINITIONS.items()}} for obj in OBJECTS}
        for key, value in (overrides or {}).items():
            obj, _, canonical = key.rpartition(".")
            if canonical not in known or (obj and obj not in OBJECTS):
                raise ConfigError(f"property_names: unknown key {key!r} (expected a canonical field "
                                  f"such as {', '.join(sorted(known))}, optionally prefixed "
                                  "with deal. or contact.)", code="BAD_SETTING")
            for target in ([obj] if obj else OBJECTS):
                self._names[target][canonical] = value
        # Asked for on every record read and written: built once.
        self._writeback = {obj: tuple(WritebackProperty(c, self._names[obj][c], *WRITEBACK_DEFINITIONS[c][1:])
                                      for c in HUBSPOT_WRITEBACK_FIELDS) for obj in OBJECTS}

    def name(self, obj: str, canonical: str) -> str | None:
        """The property holding ``canonical`` on ``obj``."""
        return self._names[obj].get(canonical)

    def field_properties(self, obj: str) -> dict[str, str]:
        """Canonical persona field -> property, for the fields ``obj`` has."""
        return {c: p for c in CANONICAL_FIELDS if (p := self._names[obj].get(c))}

    def writeback_properties(self, obj: str) -> tuple[WritebackProperty, ...]:
        """The write-back properties of ``obj`` under their configured names."""
        return self._writeback[obj]


# ---------------------------------------------------------------------------- value conversion
def to_hubspot_datetime(moment: datetime) -> str:
    """HubSpot's datetime text (UTC, milliseconds); naive datetimes are taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    utc = aware.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def to_hubspot_value(value: Any) -> str:
    """A write-back value as a property string; None clears the property (empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return to_hubspot_datetime(value)
    return str(value)


def parse_hubspot_datetime(text: str | None) -> datetime | None:
    """A datetime property value (ISO 8601 or epoch milliseconds) as an aware UTC datetime."""
    if not text:
        return None
    stripped = text.strip()
    if stripped.isdigit():
        return datetime.fromtimestamp(int(stripped) / 1000, tz=timezone.utc)
    parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def parse_float(text: str | None) -> float | None:
    """A number property as float (None when empty or not a number)."""
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def parse_int(text: str | None) -> int | None:
    """A count as int; range options such as ``25-50`` or ``1000+`` give None."""
    number = parse_float(text)
    return int(number) if number is not None and number.is_integer() else None


def parse_bool(text: str | None) -> bool:
    """A bool property; unset reads as False."""
    return (text or "").strip().lower() == "true"


def empty_to_none(text: str | None) -> str | None:
    """HubSpot sends cleared text as null or an empty string; both mean no value."""
    return text if text not in (None, "") else None
