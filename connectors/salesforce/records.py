"""Salesforce query records -> neutral :class:`CrmRecord`s, and write-back values both ways."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from connectors.base import ConfigError
from mapping.records import CrmRecord, Identity, StageChange, WRITEBACK_FIELDS

#: Write-back fields that hold datetimes and the checkbox, by canonical name.
DATETIME_FIELDS = frozenset({"stage_entered_at", "journey_updated_at"})
CHECKBOX_FIELDS = frozenset({"stalled"})


def parse_datetime(value: Any) -> datetime | None:
    """A Salesforce datetime (``2026-08-01T09:00:00.000+0000``) as an aware UTC datetime."""
    if not value:
        return None
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_datetime(value: datetime) -> str:
    """An aware datetime as the ISO text Salesforce accepts (UTC, milliseconds)."""
    if value.tzinfo is None:
        raise ConfigError("write-back datetimes must be timezone-aware", code="INVALID_VALUE")
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """Field values of a query record: parents as ``Account.Industry``, no attributes or child lists."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "totalSize" in value:
            continue
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in flatten(value).items()})
        else:
            out[key] = value
    return out


def writeback_values(raw: Mapping[str, Any], api_names: Mapping[str, str]) -> dict[str, Any]:
    """The write-back values a record holds, keyed by canonical name and normalised for comparison."""
    values: dict[str, Any] = {}
    for canonical in WRITEBACK_FIELDS:
        value = raw.get(api_names[canonical])
        if canonical in CHECKBOX_FIELDS:
            values[canonical] = bool(value)
        elif canonical in DATETIME_FIELDS:
            values[canonical] = parse_datetime(value)
        else:
            values[canonical] = value or None
    return values


def to_api_values(values: Mapping[str, Any], api_names: Mapping[str, str]) -> dict[str, Any]:
    """Canonical write-back values -> the JSON a Salesforce write takes (None clears a field)."""
    out: dict[str, Any] = {}
    for canonical, value in values.items():
        if canonical not in api_names:
            raise ConfigError(f"unknown write-back field {canonical!r}; known: {', '.join(WRITEBACK_FIELDS)}",
                              code="INVALID_FIELD")
        name = api_names[canonical]
        if canonical in CHECKBOX_FIELDS:
            out[name] = bool(value)
        elif canonical in DATETIME_FIELDS:
            out[name] = format_datetime(value) if value is not None else None
        else:
            out[name] = None if value is None else str(value)
    return out


def _number(value: Any, kind: type) -> Any:
    return None if value is None else kind(value)


#: Stamps every write moves; they are the record's ``modified_at``, not fields to classify on.
STAMP_FIELDS = frozenset({"SystemModstamp", "LastModifiedDate"})


def _base(kind: str, record: Mapping[str, Any], raw: dict[str, Any], api_names: Mapping[str, str],
          url: str | None) -> dict[str, Any]:
    return {"crm": "salesforce", "object": kind, "id": record["Id"], "name": record.get("Name"),
            "created_at": parse_datetime(record["CreatedDate"]),
            "modified_at": parse_datetime(record["SystemModstamp"]),
            "raw": _classifiable(raw, api_names), "writeback": writeback_values(raw, api_names), "url": url,
            "identity": Identity("deal") if kind == "opportunity" else Identity("person", record.get("Email"))}


def _classifiable(raw: Mapping[str, Any], api_names: Mapping[str, str]) -> dict[str, Any]:
    """The raw fields persona rules may read: set ones, without our write-back fields (they are
    ``writeback``) or the stamps, so our own write-back leaves a record's snapshot unchanged."""
    ours = set(api_names.values()) | STAMP_FIELDS
    return {k: v for k, v in raw.items() if v is not None and k not in ours}


def opportunity(record: Mapping[str, Any], api_names: Mapping[str, str], url: str | None,
                history: tuple[StageChange, ...]) -> CrmRecord:
    """A CrmRecord for an Opportunity query record and its stage history (OpportunityHistory)."""
    raw = flatten(record)
    return CrmRecord(
        **_base("opportunity", record, raw, api_names, url), stage_value=record.get("StageName"),
        history=history, stage_entered_at=parse_datetime(record.get("LastStageChangeDate")),
        fields={"amount": _number(record.get("Amount"), float), "industry": raw.get("Account.Industry"),
                "employee_count": _number(raw.get("Account.NumberOfEmployees"), int), "job_title": None,
                "lead_source": record.get("LeadSource"), "country": raw.get("Account.BillingCountry"),
                "owner_id": record.get("OwnerId"), "company": raw.get("Account.Name")})


def lead(record: Mapping[str, Any], api_names: Mapping[str, str], url: str | None) -> CrmRecord:
    """A CrmRecord for a Lead query record (Status is its stage; leads carry no history)."""
    raw = flatten(record)
    return CrmRecord(
        **_base("lead", record, raw, api_names, url), stage_value=record.get("Status"),
        fields={"amount": None, "industry": record.get("Industry"),
                "employee_count": _number(record.get("NumberOfEmployees"), int), "job_title": record.get("Title"),
                "lead_source": record.get("LeadSource"), "country": record.get("Country"),
                "owner_id": record.get("OwnerId"), "company": record.get("Company")})


def latest_opportunity(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The contact's most recently modified opportunity, from its OpportunityContactRoles."""
    roles = (record.get("OpportunityContactRoles") or {}).get("records") or []
    opportunities = [r["Opportunity"] | {"Id": r["OpportunityId"]} for r in roles if r.get("Opportunity")]
    if not opportunities:
        return None
    return max(opportunities, key=lambda o: (parse_datetime(o.get("LastModifiedDate")) or datetime.min.replace(
        tzinfo=timezone.utc), o["Id"]))


def contact(record: Mapping[str, Any], api_names: Mapping[str, str], url: str | None, *,
            followed: Mapping[str, Any] | None, history: tuple[StageChange, ...],
            stage_field: str | None) -> CrmRecord:
    """A CrmRecord for a Contact: its stage follows ``followed`` (its latest opportunity), or
    ``stage_field`` on the contact when the connection maps one."""
    raw = flatten(record)
    if stage_field:
        stage: dict[str, Any] = {"stage_object": "contact", "stage_value": record.get(stage_field)}
    else:
        stage = {"stage_object": "opportunity", "stage_value": (followed or {}).get("StageName"),
                 "history": history,
                 "stage_entered_at": parse_datetime((followed or {}).get("LastStageChangeDate"))}
    return CrmRecord(
        **_base("contact", record, raw, api_names, url), **stage,
        fields={"amount": None, "industry": raw.get("Account.Industry"),
                "employee_count": _number(raw.get("Account.NumberOfEmployees"), int),
                "job_title": record.get("Title"), "lead_source": record.get("LeadSource"),
                "country": record.get("MailingCountry"), "owner_id": record.get("OwnerId"),
                "company": raw.get("Account.Name")})
