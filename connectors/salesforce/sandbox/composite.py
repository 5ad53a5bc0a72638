"""``POST /services/data/vXX.X/composite``: up to 25 subrequests in one API call.

What Salesforce documents ("Send Multiple Requests Using Composite", the Composite request and
response bodies) and what this emulates:

- the whole series counts as ONE call toward the API limits: the gate spends the quota once for
  the top-level request; subrequests run through the same routes but spend nothing (they are
  counted apart, in ``Faults.subrequests``);
- at most 25 subrequests, of which at most 5 are sObject Collections or query operations (Query,
  QueryAll, and query-more by locator); more is refused before anything runs, a 400 whose body is
  a ``compositeResponse`` naming no subrequest (as a recorded answer shows for 26 operations:
  ``LIMIT_EXCEEDED``, "The request can't contain more than 25 operations."); a url that is a
  reference (``@{page1.nextRecordsUrl}``) is known only once resolved: a sixth query operation
  reached that way is refused alone (400 ``LIMIT_EXCEEDED``) and does not run;
- supported resources are sObject resources, Query, QueryAll and (API 43.0 and later) sObject
  Collections; others answer NOT_FOUND as a subrequest; the resource exists from API 38.0;
- ``@{referenceId.field}`` (``.`` walks objects, ``[n]`` indexes lists) in a later subrequest's url
  or body takes a value from an earlier answer (for example ``@{page1.nextRecordsUrl}``); a
  reference that names no such value, or a subrequest that failed, halts the dependent subrequest
  (400 ``PROCESSING_HALTED``, "Invalid reference specified. No value for ... found in ...");
- ``allOrNone: false`` (the default): a failed subrequest answers its own status and error body,
  the others run; ``allOrNone: true``: the first failure rolls the whole series back and every other
  subrequest answers 400 ``PROCESSING_HALTED`` ("The transaction was rolled back since another
  operation in the same transaction failed.");
- the top-level answer is 200 with ``{"compositeResponse": [{body, httpHeaders, httpStatusCode,
  referenceId}]}`` in request order (``collateSubrequests`` is accepted; running in order is one of
  the orders Salesforce allows);
- ``httpHeaders`` of a subrequest pass to its resource (``Sforce-Query-Options``...), except
  Accept, Authorization and Content-Type, which fail the whole request with a 400.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask, Response

from connectors.salesforce.sandbox.http_common import DATA, Sandbox, bearer, json_object, json_response
from connectors.salesforce.sandbox.org import RequestError

MAX_SUBREQUESTS = 25
#: Subrequests that may be sObject Collections or query operations.
MAX_HEAVY = 5
FIRST_VERSION = 38.0
COLLECTIONS_VERSION = 43.0
#: WSGI environ key marking a subrequest, so the gate neither counts nor spends it as a call.
SUBREQUEST = "sandbox.composite_subrequest"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_INHERITED = ("accept", "authorization", "content-type")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_WHOLE_REFERENCE = re.compile(rf"^{_REFERENCE.pattern}$")
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_URL = re.compile(r"^/services/data/v(\d+\.\d)/(.*)$")
_HEAVY = re.compile(r"^(query|queryAll)(/|$|\?)|^composite/sobjects")
_SUPPORTED = re.compile(r"^(sobjects|query|queryAll)(/|$|\?)|^composite/sobjects")
HALTED_ROLLBACK = "The transaction was rolled back since another operation in the same transaction failed."


class _Unresolved(Exception):
    """A reference naming no value of an earlier successful subrequest."""


def register(app: Flask, sandbox: Sandbox) -> None:
    """Add ``POST composite`` to ``app``."""

    @app.post(DATA + "composite", strict_slashes=False)
    def composite_series(version: str) -> Response:
        if float(version) < FIRST_VERSION:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        body = json_object()
        subrequests = _validated(body.get("compositeRequest"))
        limit_error = _limit_error(subrequests)
        if limit_error is not None:
            return json_response({"compositeResponse": [_result(400, [{
                "errorCode": "LIMIT_EXCEEDED", "message": limit_error}], None)]}, 400)
        all_or_none = body.get("allOrNone", False)
        for name in ("allOrNone", "collateSubrequests"):
            if not isinstance(body.get(name, False), bool):
                raise RequestError(400, "JSON_PARSER_ERROR", f"{name}: a boolean is required")
        with sandbox.org.lock:  # the series is one transaction: no other request interleaves
            saved = _snapshot(sandbox) if all_or_none else None
            results = _run(app, sandbox, subrequests, stop_on_failure=all_or_none)
            failed = next((i for i, r in enumerate(results) if r["httpStatusCode"] >= 400), None)
            if saved is not None and failed is not None:
                _restore(sandbox, saved)
                results = [results[i] if i == failed else _result(
                    400, [{"errorCode": "PROCESSING_HALTED", "message": HALTED_ROLLBACK}], sub["referenceId"])
                    for i, sub in enumerate(subrequests)]
        return json_response({"compositeResponse": results})


def _validated(raw: Any) -> list[dict[str, Any]]:
    """The subrequests of ``compositeRequest``, or a 400 saying which one is malformed and why."""
    if not isinstance(raw, list) or not raw:
        raise RequestError(400, "JSON_PARSER_ERROR", "compositeRequest: a non-empty list of subrequests is required")
    seen: set[str] = set()
    for index, sub in enumerate(raw):
        where = f"compositeRequest[{index}]"
        if not isinstance(sub, dict):
            raise RequestError(400, "JSON_PARSER_ERROR", f"{where}: a subrequest object is required")
        if sub.get("method") not in METHODS:
            raise RequestError(400, "JSON_PARSER_ERROR",
                               f"{where}.method: one of {', '.join(METHODS)} (case-sensitive) is required")
        if not isinstance(sub.get("url"), str) or not sub["url"]:
            raise RequestError(400, "JSON_PARSER_ERROR", f"{where}.url: the resource's URL is required")
        ref = sub.get("referenceId")
        if not isinstance(ref, str) or not _REFERENCE_ID.match(ref):
            raise RequestError(400, "JSON_PARSER_ERROR",
                               f"{where}.referenceId: must start with a letter or a number, and it can "
                               "contain only letters, numbers and underscores ('_')")
        if ref in seen:
            raise RequestError(400, "JSON_PARSER_ERROR", f"{where}.referenceId: {ref!r} is used twice")
        seen.add(ref)
        headers = sub.get("httpHeaders", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise RequestError(400, "JSON_PARSER_ERROR", f"{where}.httpHeaders: a map of strings is required")
        inherited = sorted(h for h in headers if h.lower() in _INHERITED)
        if inherited:
            raise RequestError(400, "INVALID_HEADER_TYPE",
                               f"{where}.httpHeaders: {', '.join(inherited)} cannot be set on a subrequest "
                               "(subrequests inherit Accept, Authorization and Content-Type)")
    return raw


def _limit_error(subrequests: list[dict[str, Any]]) -> str | None:
    if len(subrequests) > MAX_SUBREQUESTS:
        return f"The request can’t contain more than {MAX_SUBREQUESTS} operations."
    heavy = sum(1 for sub in subrequests if _heavy(sub["url"]))
    if heavy > MAX_HEAVY:
        return _heavy_message(heavy)
    return None


def _heavy(url: str) -> bool:
    """Whether ``url`` is an sObject Collections or query operation."""
    return bool(_HEAVY.match(_resource(url)))


def _heavy_message(heavy: int) -> str:
    return (f"The request can’t contain more than {MAX_HEAVY} sObject Collections or query operations "
            f"(it has {heavy}).")


def _resource(url: str) -> str:
    """The path after ``/services/data/vXX.X/`` (the url itself when it has no such prefix)."""
    match = _URL.match(url)
    return match.group(2) if match else url


def _run(app: Flask, sandbox: Sandbox, subrequests: list[dict[str, Any]], *,
         stop_on_failure: bool) -> list[dict[str, Any]]:
    answers: dict[str, Any] = {}
    results = []
    heavy = 0  # collections and query operations run so far
    for sub in subrequests:
        ref = sub["referenceId"]
        try:
            url = _resolve(sub["url"], answers)
            body = _resolve(sub.get("body"), answers)
        except _Unresolved as exc:
            results.append(_result(400, [{"errorCode": "PROCESSING_HALTED", "message": str(exc)}], ref))
        else:
            heavy += _heavy(str(url))
            if heavy > MAX_HEAVY:  # reachable only through a reference: literal urls were counted up front
                results.append(_result(400, [{"errorCode": "LIMIT_EXCEEDED", "message": _heavy_message(heavy)}], ref))
            else:
                result = _dispatch(app, sandbox, sub, url, body)
                results.append({**result, "referenceId": ref})
                if result["httpStatusCode"] < 400:
                    answers[ref] = result["body"]
        if stop_on_failure and results[-1]["httpStatusCode"] >= 400:
            break
    return results


def _resolve(value: Any, answers: dict[str, Any]) -> Any:
    """``value`` with every ``@{ref.path}`` replaced by the value it names (a whole-string
    reference keeps the value's JSON type)."""
    if isinstance(value, dict):
        return {k: _resolve(v, answers) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, answers) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value
    whole = _WHOLE_REFERENCE.match(value)
    if whole:
        return _lookup(whole.group(1), whole.group(2), answers)
    return _REFERENCE.sub(lambda m: str(_lookup(m.group(1), m.group(2), answers)), value)


def _lookup(ref: str, path: str, answers: dict[str, Any]) -> Any:
    missing = _Unresolved(f"Invalid reference specified. No value for {ref}{path} found in {ref}")
    if ref not in answers:
        raise missing
    value = answers[ref]
    for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise missing
    if value is None or isinstance(value, (dict, list)):
        raise missing
    return value


def _dispatch(app: Flask, sandbox: Sandbox, sub: dict[str, Any], url: str, body: Any) -> dict[str, Any]:
    """Run one subrequest through the sandbox's own routes, as the same user."""
    match = _URL.match(str(url))
    if not match or not _SUPPORTED.match(match.group(2)) or (
            match.group(2).startswith("composite/") and float(match.group(1)) < COLLECTIONS_VERSION):
        return _result(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], None)
    headers = {**sub.get("httpHeaders", {}), "Authorization": f"Bearer {bearer()}"}
    kwargs: dict[str, Any] = {"method": sub["method"], "headers": headers,
                              "environ_base": {SUBREQUEST: True}}
    if body is not None:
        kwargs["json"] = body
    sandbox.faults.count_subrequest(f"{sub['method']} {_route(match.group(2))}")
    with app.test_request_context(str(url), **kwargs):
        response = app.full_dispatch_request()
    answer = response.get_json(silent=True) if response.get_data() else None
    out_headers = {"Location": response.headers["Location"]} if "Location" in response.headers else {}
    if response.status_code == 201 and isinstance(answer, dict) and answer.get("id") and not out_headers:
        out_headers["Location"] = f"{url.split('?')[0].rstrip('/')}/{answer['id']}"
    return _result(response.status_code, answer, None, out_headers)


def _route(resource: str) -> str:
    """A subrequest's resource as the counters name routes (``query/{locator}``...)."""
    path = resource.split("?")[0]
    if re.match(r"^(query|queryAll)/[^/]+$", path):
        return path.split("/")[0] + "/{locator}"
    return path.rstrip("/") + "/" if path in ("query", "queryAll") else path


def _result(status: int, body: Any, ref: str | None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status, "referenceId": ref}


def _snapshot(sandbox: Sandbox) -> dict[str, Any]:
    """What an all-or-none series must be able to undo: the org's data (not its schema: Tooling
    is not a composite resource)."""
    org = sandbox.org
    return copy.deepcopy({"records": org.records, "children": org.children, "update_counts": org.update_counts,
                          "locked_ids": org.locked_ids})


def _restore(sandbox: Sandbox, saved: dict[str, Any]) -> None:
    for name, value in saved.items():
        setattr(sandbox.org, name, value)
