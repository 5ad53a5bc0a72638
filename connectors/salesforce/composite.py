"""Up to 1,000 records a call: ``POST composite`` carrying five sObject Collections subrequests.

Salesforce counts a composite request of up to 25 subrequests as one call toward the API limits,
and lets 5 of them be sObject Collections (200 records each). Both levels run with
``allOrNone: false``, so one record's refusal is its own verdict, and a collection Salesforce
refuses as a whole (a 4xx subrequest) does not stop the other four.

A record in a collection refused as a whole gets that subrequest's error marked ``WHOLE`` (True):
the refusal says nothing about the record itself, so callers back it off rather than fail it.
"""
from __future__ import annotations

from typing import Any, Sequence

from connectors.base import batched
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import first_error

#: Records per sObject Collections subrequest, and such subrequests per composite call.
COLLECTION = 200
COLLECTIONS_PER_CALL = 5
RECORDS_PER_CALL = COLLECTION * COLLECTIONS_PER_CALL
#: Key set on the per-record answer of a record whose whole collection was refused.
WHOLE = "journeyWholeCollection"


def write_records(client: SalesforceClient, method: str, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write ``records`` (``PATCH`` updates or ``POST`` inserts, at most ``RECORDS_PER_CALL``) in
    one composite call; one ``{id, success, errors}`` answer per record, in order."""
    chunks = list(batched(list(records), COLLECTION))
    if len(chunks) > COLLECTIONS_PER_CALL:
        raise ValueError(f"one composite call carries at most {RECORDS_PER_CALL} records, not {len(records)}")
    url = f"/services/data/v{client.settings.api_version}/composite/sobjects"
    body = {"allOrNone": False, "compositeRequest": [
        {"method": method, "url": url, "referenceId": f"records{n}", "body": {"allOrNone": False, "records": chunk}}
        for n, chunk in enumerate(chunks)]}
    answer = client.rest("POST composite", "composite", method="POST", json=body) or {}
    by_ref = {r.get("referenceId"): r for r in answer.get("compositeResponse") or () if isinstance(r, dict)}
    out: list[dict[str, Any]] = []
    for n, chunk in enumerate(chunks):
        out.extend(_answers(by_ref.get(f"records{n}"), len(chunk)))
    return out


def _answers(result: dict[str, Any] | None, size: int) -> list[dict[str, Any]]:
    """The per-record answers of one collection subrequest (``size`` records)."""
    if result is None:
        return [_refused("NO_RESULT", "Salesforce returned no result for this collection")] * size
    status, body = result.get("httpStatusCode"), result.get("body")
    if isinstance(status, int) and status < 300 and isinstance(body, list):
        return body[:size] + [_refused("NO_RESULT", "Salesforce returned no result")] * (size - len(body))
    code, message = first_error(body)
    return [_refused(code, f"Salesforce refused the whole collection ({status} {code}): {message}")] * size


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": []}], WHOLE: True}
