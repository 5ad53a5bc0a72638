"""The sandbox's HTTP surface: Salesforce's REST, Tooling and OAuth paths, plus ``/__sandbox__/``.

Order of checks on a data API call follows Salesforce: the session (401 INVALID_SESSION_ID), then
the daily quota (403 REQUEST_LIMIT_EXCEEDED), then the request itself. Every data API response
carries ``Sforce-Limit-Info: api-usage=N/M``.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request

from connectors.salesforce.sandbox.describe import describe_global, describe_object
from connectors.salesforce.sandbox.faults import Faults
from connectors.salesforce.sandbox.ids import to18
from connectors.salesforce.sandbox.oauth import OAuthError, TokenAuthority
from connectors.salesforce.sandbox.org import Org, RequestError, record_error
from connectors.salesforce.sandbox.query import QueryEngine
from connectors.salesforce.sandbox.soql import SoqlError
from connectors.salesforce.sandbox.values import to_json

API_VERSIONS = tuple(f"{v}.0" for v in range(31, 61))
DATA = "/services/data/v<version>/"
COMPOSITE_LIMIT = 200
_VERSION_LABELS = {"59.0": "Winter '24", "60.0": "Spring '24", "58.0": "Summer '23"}


def _error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    return _json(RequestError(status, code, message, fields).body(), status)


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def create_app(org: Org, engine: QueryEngine, tokens: TokenAuthority, faults: Faults,
               urls: Callable[[], dict[str, str]], outbound: Any) -> Flask:
    """The Flask app serving one org. ``urls()`` gives the live ``instance_url`` and ``login_url``."""
    app = Flask("salesforce_sandbox")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = True

    @app.before_request
    def gate() -> Response | None:
        rule = request.url_rule.rule if request.url_rule else request.path
        if rule.startswith("/__sandbox__"):
            return None
        label = rule.removeprefix(DATA)
        faults.count(f"{request.method} {label}")
        version = (request.view_args or {}).get("version")
        if request.url_rule is None:
            return None
        if version is not None and version not in API_VERSIONS:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        needs_session = rule.startswith(DATA) or rule == "/services/oauth2/userinfo"
        if not needs_session:
            return None
        if not tokens.valid(_bearer()):
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if not rule.startswith(DATA):
            return None
        if not faults.spend():
            return _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if faults.draw_503():
            return _error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry shortly.")
        return None

    @app.after_request
    def limit_info(response: Response) -> Response:
        if request.path.startswith("/services/data/v"):
            response.headers["Sforce-Limit-Info"] = f"api-usage={faults.api_used}/{faults.daily_quota}"
        return response

    @app.errorhandler(RequestError)
    def request_error(exc: RequestError) -> Response:
        return _json(exc.body(), exc.status)

    @app.errorhandler(SoqlError)
    def soql_error(exc: SoqlError) -> Response:
        return _error(400, exc.code, exc.message)

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    @app.errorhandler(405)
    def bad_method(_exc: Exception) -> Response:
        return _error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. "
                      "Allowed are GET,HEAD")

    # ------------------------------------------------------------------------------- OAuth
    @app.post("/services/oauth2/token")
    def token() -> Response:
        try:
            body = tokens.grant(request.form, login_url=urls()["login_url"], instance_url=urls()["instance_url"])
        except OAuthError as exc:
            return _json(exc.body(), exc.status)
        return _json(body)

    @app.get("/services/oauth2/authorize")
    def authorize() -> Response:
        args = request.args
        if args.get("response_type") != "code":
            return Response("error=unsupported_response_type&error_description=response type not supported",
                            400, mimetype="text/plain")
        try:
            code = tokens.authorization_code(args.get("client_id", ""), args.get("redirect_uri", ""))
        except OAuthError as exc:
            return Response(urlencode(exc.body()), 400, mimetype="text/plain")
        target = args.get("redirect_uri", "")
        params = {"code": code, **({"state": args["state"]} if "state" in args else {})}
        return redirect(target + ("&" if "?" in target else "?") + urlencode(params), 302)

    @app.get("/services/oauth2/userinfo")
    def userinfo() -> Response:
        return _json({"sub": f"{urls()['login_url']}/id/{org.org_id}/{org.user_id}", "user_id": org.user_id,
                      "organization_id": org.org_id, "preferred_username": tokens.username,
                      "active": True, "user_type": "STANDARD"})

    # ------------------------------------------------------------------------ REST basics
    @app.get("/services/data/")
    def versions() -> Response:
        return _json([{"label": _VERSION_LABELS.get(v, f"API {v}"), "url": f"/services/data/v{v}", "version": v}
                      for v in API_VERSIONS])

    @app.get(DATA)
    def resources(version: str) -> Response:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "tooling")
        return _json({n: f"{base}/{n}" for n in names})

    @app.get(DATA + "limits/")
    def limits(version: str) -> Response:
        return _json({"DailyApiRequests": {"Max": faults.daily_quota,
                                           "Remaining": max(faults.daily_quota - faults.api_used, 0)},
                      "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                      "DataStorageMB": {"Max": 5, "Remaining": 5}})

    # -------------------------------------------------------------------------------- query
    def run_query(version: str, *, tooling: bool, include_deleted: bool) -> Response:
        soql = request.args.get("q")
        if not soql:
            return _error(400, "MALFORMED_QUERY", "A query string has to be specified")
        options = request.headers.get("Sforce-Query-Options", "")
        match = re.search(r"batchSize=(\d+)", options)
        batch = int(match.group(1)) if match else None
        return _json(engine.run(soql, version=version, tooling=tooling, include_deleted=include_deleted,
                                batch_size=batch))

    @app.get(DATA + "query/")
    def query(version: str) -> Response:
        return run_query(version, tooling=False, include_deleted=False)

    @app.get(DATA + "queryAll/")
    def query_all(version: str) -> Response:
        return run_query(version, tooling=False, include_deleted=True)

    @app.get(DATA + "tooling/query/")
    def tooling_query(version: str) -> Response:
        return run_query(version, tooling=True, include_deleted=False)

    @app.get(DATA + "query/<locator>")
    @app.get(DATA + "queryAll/<locator>")
    def query_more(version: str, locator: str) -> Response:
        return _json(engine.more(locator, version))

    # ------------------------------------------------------------------------------ sObjects
    @app.get(DATA + "sobjects/")
    def sobjects(version: str) -> Response:
        return _json(describe_global(org, version, urls()["instance_url"]))

    @app.get(DATA + "sobjects/<name>/describe", strict_slashes=False)
    def describe(version: str, name: str) -> Response:
        with org.lock:
            return _json(describe_object(org, org.sobject(name), version, urls()["instance_url"]))

    @app.get(DATA + "sobjects/<name>/<record_id>")
    def get_record(version: str, name: str, record_id: str) -> Response:
        with org.lock:
            obj = org.sobject(name)
            record = org.get(obj.name, record_id)
            wanted = request.args.get("fields")
            fields = org.visible_fields(obj)
            if wanted:
                names = [n.strip() for n in wanted.split(",")]
                fields = [org.visible_field(obj, n) for n in names]
                if None in fields:
                    bad = next(n for n, f in zip(names, fields) if f is None)
                    raise RequestError(400, "INVALID_FIELD", f"No such column '{bad}' on entity '{obj.name}'. If "
                                       "you are attempting to use a custom field, be sure to append the '__c' after "
                                       "the custom field name. Please reference your WSDL or the describe call for "
                                       "the appropriate names.")
            body = {"attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/"
                                                           f"{record['Id']}"}}
            body.update({f.name: to_json(f.type, record.get(f.name)) for f in fields if f is not None})
        return _json(body)

    @app.patch(DATA + "sobjects/<name>/<record_id>")
    def update_record(version: str, name: str, record_id: str) -> Response:
        with org.lock:
            obj = org.sobject(name)
            org.get(obj.name, record_id)
            values = org.convert_values(obj, _json_object())
            error = org.target_error(obj, record_id)
            errors = [error] if error else org.check_values(obj, values, creating=False)
            if errors:
                first = errors[0]
                raise RequestError(400, first["statusCode"], first["message"], first["fields"])
            org.apply_update(obj, record_id, values)
        return Response(status=204)

    @app.post(DATA + "sobjects/<name>/", strict_slashes=False)
    def create_record(version: str, name: str) -> Response:
        with org.lock:
            obj = org.sobject(name)
            values = org.convert_values(obj, _json_object())
            errors = org.create_errors(obj, values)
            if errors:
                first = errors[0]
                raise RequestError(400, first["statusCode"], first["message"], first["fields"])
            new_id = org.apply_create(obj, values)
        return _json({"id": new_id, "success": True, "errors": []}, 201)

    @app.route(DATA + "composite/sobjects", methods=["PATCH", "POST"], strict_slashes=False)
    def composite(version: str) -> Response:
        body = _json_object()
        records = body.get("records")
        if not isinstance(records, list):
            raise RequestError(400, "JSON_PARSER_ERROR", "records: a list of records is required")
        if len(records) > COMPOSITE_LIMIT:
            raise RequestError(400, "EXCEEDED_ID_LIMIT",
                               f"record limit reached. cannot submit more than {COMPOSITE_LIMIT} records into this call")
        creating = request.method == "POST"
        with org.lock:
            return _json(_composite(org, records, creating=creating, all_or_none=bool(body.get("allOrNone"))))

    # ------------------------------------------------------------------------- Tooling API
    @app.post(DATA + "tooling/sobjects/CustomField/", strict_slashes=False)
    def create_custom_field(version: str) -> Response:
        with org.lock:
            new_id = org.create_custom_field(_json_object())
        return _json({"id": new_id, "success": True, "errors": [], "warnings": [], "infos": []}, 201)

    # ---------------------------------------------------------------- sandbox controls
    @app.get("/__sandbox__/counters")
    def counters() -> Response:
        with org.lock:
            updates = dict(org.update_counts)
        return _json({**faults.snapshot(), "record_updates": updates})

    @app.post("/__sandbox__/counters/reset")
    def reset_counters() -> Response:
        faults.reset_counters()
        return _json(faults.snapshot())

    @app.post("/__sandbox__/faults")
    def set_faults() -> Response:
        changes = _json_object()
        try:
            faults.update(changes)
        except (ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        if "lock_ids" in changes:
            times = changes.get("lock_times")
            with org.lock:
                org.locked_ids = {to18(str(i)): None if times is None else int(times) for i in changes["lock_ids"] or ()}
        return _json({**faults.snapshot(), "lock_ids": sorted(org.locked_ids)})

    @app.post("/__sandbox__/expire-tokens")
    def expire_tokens() -> Response:
        return _json({"expired": tokens.expire_all()})

    @app.post("/__sandbox__/move")
    def move() -> Response:
        body = _json_object()
        if not isinstance(body.get("Id"), str) or not isinstance(body.get("StageName"), str):
            return _json({"error": "body must be {\"Id\": \"006...\", \"StageName\": \"...\"}"}, 400)
        with org.lock:
            record = org.move(body["Id"], body["StageName"])
            return _json({"Id": record["Id"], "StageName": record["StageName"],
                          "SystemModstamp": to_json("datetime", record["SystemModstamp"])})

    @app.post("/__sandbox__/outbound")
    def register_outbound() -> Response:
        url = _json_object().get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _json({"error": "body must be {\"url\": \"https://...\"}"}, 400)
        outbound.register(url)
        return _json({"url": url})

    @app.get("/__sandbox__/outbound")
    def outbound_log() -> Response:
        return _json(outbound.snapshot())

    return app


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "oauth") else None


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def _composite(org: Org, records: list[Any], *, creating: bool, all_or_none: bool) -> list[dict[str, Any]]:
    """Validate every record, then apply the valid ones (all or none when asked)."""
    planned: list[tuple[Any, dict[str, Any] | None, list[dict[str, Any]]]] = []
    for raw in records:
        if not isinstance(raw, dict) or not isinstance((raw.get("attributes") or {}).get("type"), str):
            raise RequestError(400, "INVALID_TYPE", "No SObject Type defined in the attributes")
        obj = org.sobject(raw["attributes"]["type"])
        values = org.convert_values(obj, raw)
        if creating:
            errors = org.create_errors(obj, values)
        else:
            target = org.target_error(obj, raw.get("Id"))
            errors = [target] if target else org.check_values(obj, values, creating=False)
        planned.append((obj, values, errors))
    failed = any(errors for _, _, errors in planned)
    results = []
    for raw, (obj, values, errors) in zip(records, planned):
        if errors or (all_or_none and failed):
            results.append({"id": raw.get("Id"), "success": False, "errors": errors or [record_error(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "Record rolled back because not all records were valid and the request was using AllOrNone header")]})
        elif creating:
            results.append({"id": org.apply_create(obj, values or {}), "success": True, "errors": []})
        else:
            org.apply_update(obj, raw["Id"], values or {})
            results.append({"id": to18(raw["Id"]), "success": True, "errors": []})
    return results
