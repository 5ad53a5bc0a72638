"""JSON-safe dictionaries for records and journey states, so the store can re-classify offline.

Datetimes become ISO 8601 strings. Inside the free-form mappings (``fields``, ``raw``,
``writeback``) a value's type is not known from the schema, so datetimes, dates and decimals there
are tagged (``{"$datetime": "..."}``) to come back as the same type: the round trip is exact.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping

from mapping.classify import JourneyState
from mapping.records import CrmRecord, Identity, RecordRef, StageChange

#: Value types stored as they are.
_PLAIN = frozenset({str, bool, int, float, type(None)})
_STATE_FIELDS = tuple(f.name for f in fields(JourneyState))

_TAGS: dict[str, tuple[type, Callable[[Any], str], Callable[[str], Any]]] = {
    # datetime before date: a datetime is also a date.
    "$datetime": (datetime, datetime.isoformat, datetime.fromisoformat),
    "$date": (date, date.isoformat, date.fromisoformat),
    "$decimal": (Decimal, str, Decimal),
}


def record_to_dict(record: CrmRecord) -> dict[str, Any]:
    """A JSON-safe dict of ``record``; :func:`record_from_dict` gives back an equal record."""
    return {
        "crm": record.crm,
        "object": record.object,
        "id": record.id,
        "stage_value": record.stage_value,
        "created_at": record.created_at.isoformat(),
        "modified_at": record.modified_at.isoformat(),
        "stage_object": record.stage_object,
        "pipeline": record.pipeline,
        "name": record.name,
        "history": [{"value": change.value, "entered_at": change.entered_at.isoformat()}
                    for change in record.history],
        "stage_entered_at": _iso_or_none(record.stage_entered_at),
        "fields": _encode(record.fields, "fields"),
        "raw": _encode(record.raw, "raw"),
        "writeback": _encode(record.writeback, "writeback"),
        "url": record.url,
        "identity": identity_to_dict(record.identity),
    }


def record_from_dict(data: Mapping[str, Any]) -> CrmRecord:
    """The record that :func:`record_to_dict` wrote."""
    return CrmRecord(
        crm=data["crm"],
        object=data["object"],
        id=data["id"],
        stage_value=data["stage_value"],
        created_at=datetime.fromisoformat(data["created_at"]),
        modified_at=datetime.fromisoformat(data["modified_at"]),
        stage_object=data.get("stage_object"),
        pipeline=data.get("pipeline"),
        name=data.get("name"),
        history=tuple(StageChange(item["value"], datetime.fromisoformat(item["entered_at"]))
                      for item in data.get("history", ())),
        stage_entered_at=_datetime_or_none(data.get("stage_entered_at")),
        fields=_decode(data.get("fields", {})),
        raw=_decode(data.get("raw", {})),
        writeback=_decode(data.get("writeback", {})),
        url=data.get("url"),
        identity=identity_from_dict(data.get("identity")),
    )


def identity_to_dict(identity: Identity | None) -> dict[str, Any] | None:
    """A JSON-safe dict of a record's identity (None stays None)."""
    if identity is None:
        return None
    return {"kind": identity.kind, "email": identity.email,
            "same_as": [[ref.crm, ref.object, ref.id] for ref in identity.same_as]}


def identity_from_dict(data: Mapping[str, Any] | None) -> Identity | None:
    """The identity that :func:`identity_to_dict` wrote."""
    if data is None:
        return None
    return Identity(kind=data["kind"], email=data.get("email"),
                    same_as=tuple(RecordRef(*ref) for ref in data.get("same_as", ())))


def state_to_dict(state: JourneyState) -> dict[str, Any]:
    """A JSON-safe dict of ``state``; :func:`state_from_dict` gives back an equal state."""
    # Every field is a scalar: read them directly (``asdict`` deep-copies each value).
    data = {name: getattr(state, name) for name in _STATE_FIELDS}
    data["entered_at"] = _iso_or_none(state.entered_at)
    return data


def state_from_dict(data: Mapping[str, Any]) -> JourneyState:
    """The state that :func:`state_to_dict` wrote."""
    return JourneyState(**{**data, "entered_at": _datetime_or_none(data.get("entered_at"))})


def _iso_or_none(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _datetime_or_none(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _encode(value: Any, path: str) -> Any:
    if type(value) is dict and all(type(v) in _PLAIN for v in value.values()) \
            and all(type(k) is str for k in value):
        return dict(value)  # the common case (CRM fields are text and numbers): nothing to tag
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    for tag, (kind, write, _) in _TAGS.items():
        if isinstance(value, kind):
            return {tag: write(value)}
    if isinstance(value, Mapping):
        return {_key(key, path): _encode(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{path}: cannot store a value of type {type(value).__name__}")


def _key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{path}: keys must be strings, not {type(key).__name__}")
    return key


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, text), = value.items()
            if tag in _TAGS and isinstance(text, str):
                return _TAGS[tag][2](text)
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
