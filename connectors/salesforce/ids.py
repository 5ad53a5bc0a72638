"""Salesforce record ids: 15-character case-sensitive ids and their 18-character checksummed form.

The API answers with 18-character ids; people and other systems (HubSpot's Salesforce integration,
reports, URLs) often carry the 15-character form. Compare ids in the 18-character form.
"""
from __future__ import annotations

import string

_SUFFIX_CHARS = string.ascii_uppercase + "012345"


def checksum_suffix(id15: str) -> str:
    """The three characters Salesforce appends to a 15-character id to make it case-insensitive."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _SUFFIX_CHARS[bits]
    return suffix


def to18(record_id: str) -> str:
    """Normalise a 15- or 18-character id to 18 characters (other strings are returned unchanged)."""
    if len(record_id) == 15 and record_id.isascii() and record_id.isalnum():
        return record_id + checksum_suffix(record_id)
    return record_id
