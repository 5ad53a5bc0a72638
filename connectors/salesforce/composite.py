"""Five operations a call: ``POST composite`` carrying five sObject Collections or query-more
subrequests.

Salesforce counts a composite request of up to 25 subrequests as one call toward the API limits,
and lets 5 of them be sObject Collections (200 records each) or query operations (query-more by
locator among them).

Writes: 1,000 records a call, five collections of 200. Both levels run with
``allOrNone: false``, so one record's refusal is its own verdict, and a collection Salesforce
refuses as a whole (a 4xx subrequest) does not stop the other four.

A record in a collection refused as a whole gets that subrequest's error marked ``WHOLE`` (True):
the refusal says nothing about the record itself, so callers back it off rather than fail it.

Metadata: the describes of several objects (plain sObject reads, not among the five) in one call.

Reads: a query's next five pages in one call, the first by its locator and each next one by a
reference to the page before (``@{page0.nextRecordsUrl}``); past the last page the references name
nothing and Salesforce halts those subrequests, which costs nothing more.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from simple_salesforce.exceptions import SalesforceError

from connectors.base import batched
from connectors.salesforce.errors import first_error

if TYPE_CHECKING:  # the client imports this module (its query pages share the composite limits)
    from connectors.salesforce.client import SalesforceClient

#: Records per sObject Collections subrequest, and such subrequests per composite call.
COLLECTION = 200
COLLECTIONS_PER_CALL = 5
RECORDS_PER_CALL = COLLECTION * COLLECTIONS_PER_CALL
#: Query pages read per composite call (query operations a composite request may hold).
PAGES_PER_CALL = 5
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
    answer = client.rest("POST composite", "composite", method="POST", json=body, idempotent=False) or {}
    by_ref = {r.get("referenceId"): r for r in answer.get("compositeResponse") or () if isinstance(r, dict)}
    out: list[dict[str, Any]] = []
    for n, chunk in enumerate(chunks):
        out.extend(_answers(by_ref.get(f"records{n}"), len(chunk)))
    return out


def get_each(client: SalesforceClient, route: str, paths: dict[str, str]) -> dict[str, Any]:
    """``GET`` of each path (relative to ``/services/data/vXX.X/``; at most 25 plain sObject reads)
    in one composite call: the answer body by key. The first failed read is raised as that read
    alone would be."""
    if len(paths) > 25:
        raise ValueError("one composite call carries at most 25 subrequests")
    prefix = f"/services/data/v{client.settings.api_version}/"
    keys = list(paths)
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "GET", "url": prefix + paths[key], "referenceId": f"get{n}"} for n, key in enumerate(keys)]}

    def fetch() -> dict[str, Any]:
        answer = client.sf.restful("composite", method="POST", json=body) or {}
        by_ref = {r.get("referenceId"): r for r in answer.get("compositeResponse") or () if isinstance(r, dict)}
        out = {}
        for n, key in enumerate(keys):
            result = by_ref.get(f"get{n}") or {}
            status = result.get("httpStatusCode")
            if not (isinstance(status, int) and status < 300):
                raise SalesforceError(prefix + paths[key], int(status or 500), "composite", result.get("body"))
            out[key] = result.get("body")
        return out

    return client.call(route, fetch)


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
