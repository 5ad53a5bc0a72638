"""Packed documents: what goes in comes out, a stored record takes a fraction of its JSON, and a
value in no known format is refused rather than misread."""
from __future__ import annotations

import json

import pytest

from integration.store.packed import pack, unpack
from mapping.serialize import record_to_dict
from tests.mapping.helpers import opportunity


@pytest.mark.parametrize("document", [
    {}, [], {"a": None, "b": [1, 2.5, True, "ü — 漢字"], "c": {"$datetime": "2026-01-01T00:00:00+00:00"}},
    {"text": "x" * 100_000},
])
def test_what_goes_in_comes_out(document):
    assert unpack(pack(document)) == document


def test_a_record_snapshot_packs_to_under_a_quarter_of_its_json():
    record = record_to_dict(opportunity("Closed Won", ("Prospecting", 40), ("Proposal", 20),
                                        ("Closed Won", 5)))
    text = json.dumps(record)
    assert len(pack(record)) * 4 < len(text)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format byte"):
        unpack(b"\x00" + pack({"a": 1})[1:])
    with pytest.raises(ValueError):
        unpack(b"")
