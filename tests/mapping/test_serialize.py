"""Record and state dictionaries: JSON-safe and exact round trips."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from mapping import classify, record_from_dict, record_to_dict, state_from_dict, state_to_dict
from tests.mapping.helpers import NOW, opportunity, small_map


def rich_record():
    return opportunity(
        "Qualification", ("Prospecting", 30), ("Qualification", 10), stage_entered_at=NOW - timedelta(days=10),
        pipeline="default", name="Acme – Platform", url="https://example.my.salesforce.com/006A",
        fields={"amount": 180000.5, "employee_count": 5200, "industry": None, "tags": ["a", "b"]},
        raw={"CloseDate": date(2026, 12, 15), "Amount": Decimal("180000.50"), "Nested": {"k": [1, {"x": True}]}},
        writeback={"stalled": "true",
                   "stage_entered_at": datetime(2026, 10, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))},
    )


def test_record_round_trip_is_exact_through_json():
    record = rich_record()
    again = record_from_dict(json.loads(json.dumps(record_to_dict(record))))
    assert again == record
    assert again.raw["CloseDate"] == date(2026, 12, 15) and isinstance(again.raw["Amount"], Decimal)
    assert again.writeback["stage_entered_at"].utcoffset() == timedelta(hours=2)


def test_record_dict_uses_iso_datetimes():
    data = record_to_dict(rich_record())
    assert data["created_at"] == "2026-05-07T12:00:00+00:00"
    assert data["history"][0] == {"value": "Prospecting", "entered_at": "2026-10-24T12:00:00+00:00"}
    assert data["raw"]["CloseDate"] == {"$date": "2026-12-15"}


def test_a_minimal_record_round_trips():
    record = opportunity(None)
    assert record_from_dict(json.loads(json.dumps(record_to_dict(record)))) == record


def test_values_that_cannot_be_stored_are_named_by_path():
    record = opportunity("Prospecting", raw={"Blob": {"inner": object()}})
    with pytest.raises(TypeError, match=r"raw\.Blob\.inner: cannot store a value of type object"):
        record_to_dict(record)


@pytest.mark.parametrize("record", [rich_record(), opportunity("Closed Won"), opportunity(None)],
                         ids=["mapped", "unmapped", "no stage"])
def test_state_round_trip_is_exact_through_json(record):
    state = classify(record, small_map(), NOW)
    assert state_from_dict(json.loads(json.dumps(state_to_dict(state)))) == state
