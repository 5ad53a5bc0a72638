"""The sandbox's HTTP surface: HubSpot's v3 paths plus ``/__sandbox__/`` controls."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request

from connectors.sandbox_control import register_controls

from . import associations, tasks
from .auth import OAuthError
from .controls import HubSpotLevers
from .owners import MAX_LIMIT as MAX_OWNER_LIMIT
from .schema import DEALS, OBJECT_TYPES
from .search import search
from .store import RecordFailure, apply_property_update, parse_rules, validate_property_create
from .wire import HubSpotHttpError, correlation_id, iso_ms, not_found, now_utc, validation_error

if TYPE_CHECKING:
    from .server import HubSpotSandbox

MAX_BATCH = 100
MAX_BATCH_WITH_HISTORY = 50
MAX_LIST_LIMIT = 100
MAX_LIST_LIMIT_WITH_HISTORY = 50
DAILY_LIMIT = 250_000
UNAUTHENTICATED = ("/oauth/", "/__sandbox__/")


def _multi(name: str) -> list[str]:
    """A query array sent as repeated keys, comma lists, or both."""
    return [part for value in request.args.getlist(name) for part in value.split(",") if part]


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: the request body must be a JSON object")
    return body


def _batch_response(results: list[dict[str, Any]], failures: list[Any], started: str
                    ) -> tuple[Response, int]:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "requestedAt": started,
                            "startedAt": started, "completedAt": iso_ms(now_utc())}
    if not failures:
        return jsonify(body), 200
    # Inputs sent with an objectWriteTraceId are named by it; others by their ids.
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for failure in failures:
        key, name = (("objectWriteTraceId", failure.trace_id) if failure.trace_id is not None
                     else ("ids", failure.id))
        grouped.setdefault((failure.category, failure.message, key), []).append(name)
    body["numErrors"] = len(failures)
    body["errors"] = [{"status": "error", "category": category, "message": message,
                       "context": {key: names}, "links": {}, "errors": []}
                      for (category, message, key), names in grouped.items()]
    return jsonify(body), 207


def _inputs(body: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id") for i in inputs):
        raise validation_error("Invalid input JSON: 'inputs' must be a list of objects with an 'id'")
    if len(inputs) > limit:
        raise validation_error(f"Batch input limit exceeded: {len(inputs)} inputs were sent, "
                               f"the limit is {limit}", subCategory="BATCH_LIMIT_EXCEEDED")
    ids = [str(i["id"]) for i in inputs]
    if len(set(ids)) != len(ids):
        raise validation_error("Duplicate IDs found in batch input: " +
                               ", ".join(sorted({i for i in ids if ids.count(i) > 1})))
    return inputs


def create_app(sandbox: HubSpotSandbox) -> Flask:
    """Build the Flask app serving ``sandbox``'s portal."""
    app = Flask("hubspot_sandbox")
    app.json.sort_keys = False
    portal = sandbox.portal
    creds = sandbox.credentials
    counts_lock = threading.Lock()

    # ----------------------------------------------------------------------- pipeline of checks
    def route_name() -> str:
        rule = request.url_rule.rule if request.url_rule else request.path
        for key, value in (request.view_args or {}).items():
            if key == "object_type":
                rule = rule.replace(f"<{key}>", OBJECT_TYPES[value].name if value in OBJECT_TYPES
                                    else value)
        return f"{request.method} {rule}"

    def rate_headers(remaining: int, search_remaining: int | None = None, *,
                     private_app: bool) -> dict[str, str]:
        """HubSpot's X-HubSpot-RateLimit-* headers. OAuth (public) apps have no daily limit and
        get no Daily headers; private apps do."""
        headers = {"X-HubSpot-RateLimit-Max": str(sandbox.rate.limit),
                   "X-HubSpot-RateLimit-Remaining": str(max(0, remaining)),
                   "X-HubSpot-RateLimit-Interval-Milliseconds":
                       str(int(sandbox.rate.window_seconds * 1000))}
        if private_app:
            headers["X-HubSpot-RateLimit-Daily"] = str(DAILY_LIMIT)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, DAILY_LIMIT - sandbox.calls_total))
        if search_remaining is not None:
            headers["X-HubSpot-RateLimit-Secondly"] = str(sandbox.search_rate.limit)
            headers["X-HubSpot-RateLimit-Secondly-Remaining"] = str(max(0, search_remaining))
        return headers

    def limited(policy: str, headers: dict[str, str]) -> HubSpotHttpError:
        """HubSpot's 429 for ``policy`` (``TEN_SECONDLY_ROLLING`` or ``SECONDLY``). The search
        endpoints' own limit answers without a ``policyName``, as HubSpot's search API does."""
        window = "ten_secondly_rolling" if policy == "TEN_SECONDLY_ROLLING" else "secondly"
        extra = {"errorType": "RATE_LIMIT"}
        if policy == "TEN_SECONDLY_ROLLING":
            extra["policyName"] = policy
        return HubSpotHttpError(429, "RATE_LIMITS", f"You have reached your {window} limit.",
                                extra=extra, headers=headers)

    def unavailable(status: int) -> HubSpotHttpError:
        category = "SERVICE_UNAVAILABLE" if status == 503 else "INTERNAL_ERROR"
        return HubSpotHttpError(status, category,
                                "The service is temporarily unavailable. Please try again later.")

    @app.before_request
    def gate() -> Any:
        if request.path.startswith("/__sandbox__/"):
            return None
        with counts_lock:  # counted on arrival: a test sees a call that is still under way
            name = route_name()
            sandbox.calls[name] = sandbox.calls.get(name, 0) + 1
            sandbox.calls_total += 1
        if sandbox.latency_ms:
            time.sleep(sandbox.latency_ms / 1000)
        if request.path.startswith(UNAUTHENTICATED):
            return None
        private = creds.check(request.headers.get("Authorization")).token == creds.private_app_token
        is_search = request.method == "POST" and request.path.endswith("/search")
        if is_search and sandbox.search_rate.try_acquire() > 0:
            raise limited("SECONDLY", rate_headers(sandbox.rate.limit - sandbox.rate.in_window(), 0,
                                                   private_app=private))
        exhausted = rate_headers(0, private_app=private)
        if sandbox.rate.try_acquire() > 0:
            raise limited("TEN_SECONDLY_ROLLING", exhausted)
        if sandbox.fail_next:
            status = sandbox.fail_next.pop(0)
            raise limited("TEN_SECONDLY_ROLLING", exhausted) if status == 429 else unavailable(status)
        roll = random.random()
        if roll < sandbox.fault_429:
            raise limited("TEN_SECONDLY_ROLLING", exhausted)
        if roll < sandbox.fault_429 + sandbox.fault_503:
            raise unavailable(503)
        request.environ["hubspot.rate_headers"] = rate_headers(
            sandbox.rate.limit - sandbox.rate.in_window(),
            sandbox.search_rate.limit - sandbox.search_rate.in_window() if is_search else None,
            private_app=private)
        return None

    @app.after_request
    def add_rate_headers(response: Response) -> Response:
        for key, value in request.environ.get("hubspot.rate_headers", {}).items():
            response.headers[key] = value
        return response

    @app.errorhandler(HubSpotHttpError)
    def hubspot_error(exc: HubSpotHttpError) -> Any:
        response = jsonify(exc.body())
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(OAuthError)
    def oauth_error(exc: OAuthError) -> Any:
        return jsonify(exc.body()), 400

    @app.errorhandler(404)
    def unknown_path(_exc: Any) -> Any:
        return jsonify({"status": "error", "message": f"Unable to find a route for {request.path}",
                        "correlationId": correlation_id(), "category": "OBJECT_NOT_FOUND"}), 404

    @app.errorhandler(405)
    def wrong_method(_exc: Any) -> Any:
        return jsonify({"status": "error", "message": f"{request.method} is not supported here",
                        "correlationId": correlation_id(), "category": "VALIDATION_ERROR"}), 405

    # ----------------------------------------------------------------------------- objects
    @app.get("/crm/v3/objects/<object_type>")
    def list_objects(object_type: str) -> Any:
        with_history = _multi("propertiesWithHistory")
        cap = MAX_LIST_LIMIT_WITH_HISTORY if with_history else MAX_LIST_LIMIT
        try:
            limit = int(request.args.get("limit", 10))
            after = int(request.args.get("after") or 0)
        except ValueError:
            raise validation_error("limit and after must be integers") from None
        if not 0 < limit <= cap:
            raise validation_error(f"limit must be between 1 and {cap}")
        with portal.lock:
            store = portal.store(object_type)
            if request.args.get("archived", "false").lower() == "true":
                return jsonify({"results": []})
            ordered = sorted((r for r in store.records.values() if int(r.id) >= after),
                             key=lambda r: int(r.id))
            page = ordered[:limit]
            render = portal.renderer(store, _multi("properties"), with_history)
            wanted = _multi("associations")
            body: dict[str, Any] = {"results": [
                associations.attach(portal, store.type, render(r), wanted) for r in page]}
            if len(ordered) > limit:
                next_after = ordered[limit].id
                query = urlencode({**request.args.to_dict(), "after": next_after})
                body["paging"] = {"next": {"after": next_after,
                                           "link": f"{request.base_url}?{query}"}}
        return jsonify(body)

    @app.get("/crm/v3/objects/<object_type>/<record_id>")
    def get_object(object_type: str, record_id: str) -> Any:
        with portal.lock:
            store = portal.store(object_type)
            record = store.records.get(record_id)
            if record is None:
                raise not_found()
            return jsonify(associations.attach(
                portal, store.type, portal.render(store, record, _multi("properties"),
                                                  _multi("propertiesWithHistory")),
                _multi("associations")))

    @app.patch("/crm/v3/objects/<object_type>/<record_id>")
    def update_object(object_type: str, record_id: str) -> Any:
        properties = _json_body().get("properties")
        if not isinstance(properties, dict):
            raise validation_error("Invalid input JSON: 'properties' must be an object")
        results, failures = portal.update(object_type, [(record_id, properties)])
        if failures:
            raise not_found()
        return jsonify(results[0])

    @app.post("/crm/v3/objects/<object_type>/batch/read")
    def batch_read(object_type: str) -> Any:
        started = iso_ms(now_utc())
        body = _json_body()
        with_history = body.get("propertiesWithHistory") or []
        inputs = _inputs(body, MAX_BATCH_WITH_HISTORY if with_history else MAX_BATCH)
        with portal.lock:
            store = portal.store(object_type)
            render = portal.renderer(store, body.get("properties"), with_history)
            results, missing = [], []
            for item in inputs:
                record = store.records.get(str(item["id"]))
                if record is None:
                    missing.append(str(item["id"]))
                else:
                    results.append(render(record))
        failures = [RecordFailure(i, "OBJECT_NOT_FOUND",
                                  f"Could not get some {store.type.label} objects, they may be "
                                  "deleted or not exist. Check that ids are valid.") for i in missing]
        return _batch_response(results, failures, started)

    @app.post("/crm/v3/objects/<object_type>/batch/update")
    def batch_update(object_type: str) -> Any:
        started = iso_ms(now_utc())
        inputs = _inputs(_json_body(), MAX_BATCH)
        if not all(isinstance(i.get("properties"), dict) for i in inputs):
            raise validation_error("Invalid input JSON: every input needs a 'properties' object")
        traced = all(i.get("objectWriteTraceId") is not None for i in inputs)
        results, failures = portal.update(
            object_type, [(str(i["id"]), i["properties"]) for i in inputs],
            source_id=str(creds.app_id),
            trace_ids={str(i["id"]): str(i["objectWriteTraceId"]) for i in inputs} if traced else None)
        return _batch_response(results, failures, started)

    @app.post("/crm/v3/objects/<object_type>/search")
    def search_objects(object_type: str) -> Any:
        return jsonify(search(portal, object_type, _json_body()))

    associations.register(app, portal)
    tasks.register(app, portal)

    # --------------------------------------------------------------------------- pipelines
    def pipeline_json(pipeline: dict[str, Any]) -> dict[str, Any]:
        created = iso_ms(portal.started)
        return {"id": pipeline["id"], "label": pipeline["label"],
                "displayOrder": pipeline["displayOrder"], "archived": False,
                "createdAt": created, "updatedAt": created,
                "stages": [{"id": s["id"], "label": s["label"], "displayOrder": s["displayOrder"],
                            "metadata": s["metadata"], "archived": False,
                            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                            "createdAt": created, "updatedAt": created}
                           for s in pipeline["stages"]]}

    def deal_pipelines(object_type: str) -> list[dict[str, Any]]:
        if OBJECT_TYPES.get(object_type) is not DEALS:
            raise validation_error(f"Pipelines are not supported for object type {object_type}")
        return portal.pipelines

    @app.get("/crm/v3/pipelines/<object_type>")
    def list_pipelines(object_type: str) -> Any:
        return jsonify({"results": [pipeline_json(p) for p in deal_pipelines(object_type)]})

    @app.get("/crm/v3/pipelines/<object_type>/<pipeline_id>")
    def get_pipeline(object_type: str, pipeline_id: str) -> Any:
        for pipeline in deal_pipelines(object_type):
            if pipeline["id"] == pipeline_id:
                return jsonify(pipeline_json(pipeline))
        raise not_found(f"Pipeline {pipeline_id} does not exist")

    # -------------------------------------------------------------------------- properties
    @app.get("/crm/v3/properties/<object_type>")
    def list_properties(object_type: str) -> Any:
        with portal.lock:
            store = portal.store(object_type)
            return jsonify({"results": [p.to_json(store.created_at)
                                        for p in store.properties.values()]})

    @app.post("/crm/v3/properties/<object_type>")
    def create_property(object_type: str) -> Any:
        body = _json_body()
        with portal.lock:
            store = portal.store(object_type)
            definition = validate_property_create(store, body)
            store.properties[definition.name] = definition
            return jsonify(definition.to_json(iso_ms(now_utc()))), 201

    @app.get("/crm/v3/properties/<object_type>/<name>")
    def get_property(object_type: str, name: str) -> Any:
        with portal.lock:
            store = portal.store(object_type)
            if name not in store.properties:
                raise not_found(f"Unable to find property {name} for object type {object_type}")
            return jsonify(store.properties[name].to_json(store.created_at))

    @app.patch("/crm/v3/properties/<object_type>/<name>")
    def update_property(object_type: str, name: str) -> Any:
        body = _json_body()
        with portal.lock:
            store = portal.store(object_type)
            if name not in store.properties:
                raise not_found(f"Unable to find property {name} for object type {object_type}")
            store.properties[name] = apply_property_update(store.properties[name], body)
            return jsonify(store.properties[name].to_json(iso_ms(now_utc())))

    @app.get("/crm/v3/properties/<object_type>/groups")
    def list_groups(object_type: str) -> Any:
        with portal.lock:
            return jsonify({"results": list(portal.store(object_type).groups.values())})

    @app.post("/crm/v3/properties/<object_type>/groups")
    def create_group(object_type: str) -> Any:
        body = _json_body()
        name, label = body.get("name"), body.get("label")
        if not name or not label:
            raise validation_error("Invalid input JSON: 'name' and 'label' are required")
        with portal.lock:
            store = portal.store(object_type)
            if name in store.groups:
                raise HubSpotHttpError(409, "OBJECT_ALREADY_EXISTS",
                                       f"Property group named '{name}' already exists.")
            group = {"name": name, "label": label, "displayOrder": body.get("displayOrder", -1),
                     "archived": False}
            store.groups[name] = group
            return jsonify(group), 201

    @app.get("/crm/v3/properties/<object_type>/groups/<name>")
    def get_group(object_type: str, name: str) -> Any:
        with portal.lock:
            group = portal.store(object_type).groups.get(name)
        if group is None:
            raise not_found(f"Unable to find property group {name}")
        return jsonify(group)

    @app.get("/crm/v3/owners/", strict_slashes=False)
    def list_owners() -> Any:
        limit = request.args.get("limit", "100")
        if not limit.isdigit() or not 0 < int(limit) <= MAX_OWNER_LIMIT:
            raise validation_error(f"limit must be a number from 1 to {MAX_OWNER_LIMIT}")
        with portal.lock:
            return jsonify(portal.owners.page(int(limit), request.args.get("after"),
                                              request.args.get("email")))

    @app.get("/crm/v3/owners/<owner_id>")
    def get_owner(owner_id: str) -> Any:
        with portal.lock:
            owner = portal.owners.by_id.get(owner_id)
        if owner is None:
            raise not_found(f"No owner with id {owner_id}")
        return jsonify(owner)

    @app.get("/account-info/v3/details")
    def account_details() -> Any:
        return jsonify({"portalId": portal.portal_id, "accountType": "STANDARD",
                        "timeZone": "UTC", "companyCurrency": "USD", "additionalCurrencies": [],
                        "utcOffset": "+00:00", "utcOffsetMilliseconds": 0,
                        "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"})

    # ------------------------------------------------------------------------------- oauth
    @app.get("/oauth/authorize")
    def authorize() -> Any:
        redirect_uri = request.args.get("redirect_uri")
        try:
            code = creds.authorize(request.args.get("client_id"), redirect_uri,
                                   request.args.get("scope", ""))
        except ValueError as exc:
            return Response(f"<h1>Authorization failed</h1><p>{exc}</p>", status=400,
                            mimetype="text/html")
        params = {"code": code}
        if request.args.get("state") is not None:
            params["state"] = request.args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return redirect(f"{redirect_uri}{separator}{urlencode(params)}", code=302)

    @app.post("/oauth/v1/token")
    def token() -> Any:
        if not request.mimetype == "application/x-www-form-urlencoded":
            raise OAuthError("BAD_REQUEST", "the body must be form-encoded")
        return jsonify(creds.token(request.form.to_dict()))

    @app.get("/oauth/v1/access-tokens/<token_value>")
    def token_info(token_value: str) -> Any:
        return jsonify(creds.info(token_value))

    # ----------------------------------------------------------------------------- controls
    register_controls(app, HubSpotLevers(sandbox, counts_lock))

    # Portal validation rules: a HubSpot-only lever beside the shared ones.
    @app.post("/__sandbox__/validation-rules")
    def set_validation_rules() -> Any:
        """Replace the portal's validation rules (conditional required properties)."""
        try:
            rules = parse_rules(_json_body().get("rules"))
        except ValueError as exc:
            raise validation_error(f"validation-rules: {exc}") from None
        with portal.lock:
            portal.validation_rules = rules
        return jsonify({"rules": [asdict(r) for r in rules]})

    @app.get("/__sandbox__/validation-rules")
    def validation_rules() -> Any:
        with portal.lock:
            return jsonify({"rules": [asdict(r) for r in portal.validation_rules]})

    return app
