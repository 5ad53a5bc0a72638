"""Salesforce record ids: 15-character case-sensitive ids and their 18-character checksummed form."""
from __future__ import annotations

import itertools
import string
import threading

from connectors.salesforce.ids import checksum_suffix, to18

__all__ = ["KEY_PREFIXES", "IdFactory", "checksum_suffix", "looks_like_id", "recased", "to18"]

#: Key prefixes of the objects the sandbox serves (the first three characters of every id).
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Task": "00T",
    "Opportunity": "006",
    "OpportunityHistory": "008",
    "OpportunityContactRole": "00K",
    "Lead": "00Q",
    "Organization": "00D",
    "CustomField": "00N",
    "OpportunityStage": "01J",
    "LeadStatus": "01J",
    "FieldPermissions": "01k",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
}

_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX_CHARS = string.ascii_uppercase + "012345"


def recased(record_id: str) -> str:
    """An 18-character id typed in any case, with the case of its first 15 characters restored from
    its checksum suffix, as Salesforce reads it; other strings are returned unchanged."""
    if len(record_id) != 18 or not record_id.isascii() or not record_id.isalnum():
        return record_id
    suffix = record_id[15:].upper()
    if any(ch not in _SUFFIX_CHARS for ch in suffix):
        return record_id
    body = ""
    for n, ch in enumerate(suffix):
        bits = _SUFFIX_CHARS.index(ch)
        chunk = record_id[n * 5:n * 5 + 5]
        body += "".join(c.upper() if bits >> i & 1 else c.lower() for i, c in enumerate(chunk))
    return body + suffix


def looks_like_id(value: str) -> bool:
    """True when ``value`` has the shape of a Salesforce id: 15 or 18 ASCII letters and digits.

    The checksum of 18-character ids is not enforced: hand-written seed ids rarely carry a valid one.
    """
    return len(value) in (15, 18) and value.isascii() and value.isalnum()


class IdFactory:
    """Makes new ids per object with the object's key prefix and a pod-like middle part."""

    def __init__(self, pod: str = "5g") -> None:
        self._pod = pod
        self._counters: dict[str, itertools.count] = {}
        self._lock = threading.Lock()

    def new(self, sobject: str) -> str:
        """A fresh 18-character id for ``sobject``."""
        with self._lock:
            n = next(self._counters.setdefault(sobject, itertools.count(1)))
        body = ""
        for _ in range(6):
            n, digit = divmod(n, len(_ALPHABET))
            body = _ALPHABET[digit] + body
        id15 = f"{KEY_PREFIXES[sobject]}{self._pod}0000{body}"
        return id15 + checksum_suffix(id15)
