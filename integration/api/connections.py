"""Connections: create (checked against the CRM), list, show health, reconnect, pause/resume,
delete; provision; sync now; runs; outbox."""
from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError

from connectors import registry
from connectors.base import CrmError
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.errors import ApiError
from integration.api.helpers import caller_connection, int_arg, json_body, services
from integration.connecting import (ConnectionRefused, InvalidSettings, connect, provision,
                                    reconnect, set_paused, split_settings)
from integration.notification_urls import notification_url
from integration.status import connection_status, run_to_dict
from integration.store import outbox
from integration.store.connections import delete_connection, list_connections
from integration.store.types import id_or_none
from integration.store.runs import get_run, list_runs, queue_run
from integration.sync.standing import ACTIVE, describe


def connection_to_dict(conn) -> dict:
    """A connection as the API shows it (never its secrets), with the URL its CRM sends changes to
    and its standing in plain words."""
    return {"id": conn.id, "name": conn.name, "crm": conn.crm, "settings": conn.settings,
            "account_id": conn.account_id, "sync_interval_seconds": conn.sync_interval_seconds,
            "watermark": conn.watermark, "last_sync_at": conn.last_sync_at,
            "created_at": conn.created_at,
            "notification_url": notification_url(services().settings, conn.crm, conn.id),
            "state": conn.state, "standing": describe(conn)}


def refused(exc: ConnectionRefused) -> ApiError:
    """The API error for settings the CRM refused (422) or a duplicate connection (409)."""
    status = 409 if exc.code in ("ALREADY_CONNECTED", "NAME_TAKEN", "NEEDS_RECONNECT") else 422
    return ApiError(status, exc.code, str(exc))


#: The outbox statuses the list can be filtered by.
OUTBOX_STATUSES = ("pending", "sending", "parked")

#: The longest sync interval: 30 days (the polling safety net should not sleep longer).
MAX_SYNC_INTERVAL = 30 * 86_400


def interval_problem(value) -> str | None:
    """Why ``value`` is not a sync interval, or None when it is one."""
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value <= MAX_SYNC_INTERVAL:
        return None
    return f"must be a whole number of seconds from 60 to {MAX_SYNC_INTERVAL}"


@bp.get("/crms")
@require_tenant
def crms():
    """The CRMs a connection can be made for and the settings each needs."""
    return jsonify({"crms": [
        {"name": spec.name, "label": spec.label,
         "settings": [{"name": s.name, "label": s.label, "secret": s.secret,
                       "required": s.required, "default": s.default, "help": s.help}
                      for s in spec.settings]}
        for spec in map(registry.spec, registry.names())]})


@bp.get("/connections")
@require_tenant
def connections_list():
    """List the caller's connections."""
    with services().session() as session:
        return jsonify({"connections": [connection_to_dict(c)
                                        for c in list_connections(session, g.tenant_id)]})


@bp.post("/connections")
@require_tenant
def connections_create():
    """Create a connection from a CRM's settings."""
    body = json_body()
    problems = {k: "required" for k in ("name", "crm") if not body.get(k)}
    problems.update({k: "must be a string of at most 200 characters" for k in ("name", "crm", "account_id")
                     if body.get(k) is not None and not (isinstance(body[k], str) and len(body[k]) <= 200)})
    if not isinstance(body.get("settings") or {}, dict):
        problems["settings"] = "must be an object"
    if not problems and body["crm"] not in registry.names():
        problems["crm"] = f"unknown CRM; known: {', '.join(registry.names())}"
    elif not problems:
        try:
            split_settings(registry.spec(body["crm"]), body.get("settings") or {})
        except InvalidSettings as exc:
            problems.update({f"settings.{k}": v for k, v in exc.problems.items()})
    interval = body.get("sync_interval_seconds")
    if interval is not None and interval_problem(interval):
        problems["sync_interval_seconds"] = interval_problem(interval)
    if "account_id" in body:
        problems["account_id"] = "cannot be given: it is read from the CRM with the credentials"
    if problems:
        raise ApiError(422, "INVALID_CONNECTION", "the connection is not valid", problems)
    try:
        with services().session() as session:
            conn = connect(session, services(), tenant_id=g.tenant_id, name=body["name"],
                           crm=body["crm"], values=body.get("settings") or {},
                           sync_interval_seconds=interval)
            result = connection_to_dict(conn)
    except ConnectionRefused as exc:
        raise refused(exc) from None
    except IntegrityError:
        raise ApiError(409, "CONFLICT", f"a connection named {body['name']!r} exists") from None
    return jsonify(result), 201


@bp.get("/connections/<ref>")
@require_tenant
def connections_show(ref: str):
    """Show a connection and its health."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        return jsonify({**connection_to_dict(conn), "health": connection_status(session, conn.id)})


@bp.patch("/connections/<ref>")
@require_tenant
def connections_update(ref: str):
    """Change a connection: sync interval, new credentials (reconnect), paused or resumed."""
    body = json_body()
    editable = {"sync_interval_seconds", "settings", "paused"}
    problems = {k: "cannot be changed" for k in set(body) - editable}
    interval = body.get("sync_interval_seconds")
    if "sync_interval_seconds" in body and interval_problem(interval):
        problems["sync_interval_seconds"] = interval_problem(interval)
    if "settings" in body and not (isinstance(body["settings"], dict) and body["settings"]):
        problems["settings"] = "must be an object of the CRM's settings to replace, see GET /crms"
    if "paused" in body and not isinstance(body["paused"], bool):
        problems["paused"] = "must be true or false"
    if not body:
        problems["body"] = "name at least one of: " + ", ".join(sorted(editable))
    if problems:
        raise ApiError(422, "INVALID_CONNECTION", "the connection is not valid", problems)
    with services().session() as session:
        conn_id = caller_connection(session, ref).id
    try:
        if "settings" in body:
            reconnect(services(), g.tenant_id, conn_id, body["settings"])
        if "paused" in body:
            set_paused(services(), g.tenant_id, conn_id, body["paused"])
    except InvalidSettings as exc:
        raise ApiError(422, "INVALID_CONNECTION", "the connection is not valid",
                       {f"settings.{k}": v for k, v in exc.problems.items()}) from None
    except ConnectionRefused as exc:
        raise refused(exc) from None
    with services().session() as session:
        conn = caller_connection(session, str(conn_id))
        if interval is not None:
            conn.sync_interval_seconds = interval
            session.add(conn)
        return jsonify(connection_to_dict(conn))


@bp.delete("/connections/<ref>")
@require_tenant
def connections_delete(ref: str):
    """Delete a connection and everything stored for it."""
    with services().session() as session:
        delete_connection(session, caller_connection(session, ref))
    return "", 204


@bp.post("/connections/<ref>/provision")
@require_tenant
def connections_provision(ref: str):
    """Create the write-back fields in the CRM (idempotent)."""
    with services().session() as session:
        conn_id = caller_connection(session, ref).id
    try:
        fields = provision(services(), conn_id)
    except CrmError as exc:
        raise ApiError(502, exc.code, str(exc)) from None
    return jsonify({"fields": [{"object": f.object, "name": f.name, "label": f.label,
                                "created": f.created} for f in fields]})


@bp.post("/connections/<ref>/sync")
@require_tenant
def connections_sync(ref: str):
    """Queue a sync now; returns the run id (202)."""
    body = json_body(required=False)
    with services().session() as session:
        conn = caller_connection(session, ref)
        if conn.state != ACTIVE:
            raise ApiError(409, conn.state.upper(), describe(conn)["text"])
        run = queue_run(session, conn.id, full=bool(body.get("full")), requested_by="api")
        return jsonify({"run_id": run.id, "status": run.status}), 202


@bp.get("/connections/<ref>/runs")
@require_tenant
def runs_list(ref: str):
    """Recent sync runs, newest first."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        return jsonify({"runs": [run_to_dict(r) for r in
                                 list_runs(session, conn.id, int_arg("limit", 50, low=1, high=500))]})


@bp.get("/connections/<ref>/runs/<int:run_id>")
@require_tenant
def runs_show(ref: str, run_id: int):
    """One sync run with its counts and errors."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        run = get_run(session, conn.id, run_id)
        if run is None:
            raise ApiError(404, "NOT_FOUND", f"no run {run_id}")
        return jsonify(run_to_dict(run))


def outbox_item_to_dict(item) -> dict:
    """An outbox item as the API shows it."""
    return {"id": item.id, "object": item.object, "crm_id": item.crm_id, "values": item.values,
            "status": item.status, "attempts": item.attempts,
            "next_attempt_at": item.next_attempt_at, "error_code": item.last_error_code,
            "error_message": item.last_error_message, "updated_at": item.updated_at}


@bp.get("/connections/<ref>/outbox")
@require_tenant
def outbox_list(ref: str):
    """Outbox items waiting, in flight or parked, with the CRM's errors."""
    status = request.args.get("status")
    if status not in (None, *OUTBOX_STATUSES):
        raise ApiError(400, "BAD_PARAMETER", f"status: one of {', '.join(OUTBOX_STATUSES)}")
    with services().session() as session:
        conn = caller_connection(session, ref)
        return jsonify({"counts": outbox.counts(session, conn.id),
                        "items": [outbox_item_to_dict(i) for i in
                                  outbox.list_items(session, conn.id, status,
                                                    int_arg("limit", 200, low=1, high=1000))]})


@bp.post("/connections/<ref>/outbox/retry")
@require_tenant
def outbox_retry(ref: str):
    """Give parked outbox items a fresh set of attempts."""
    body = json_body(required=False)
    ids = body.get("ids")
    if ids is not None and not (isinstance(ids, list) and len(ids) <= 1000
                                and all(id_or_none(i) is not None and not isinstance(i, str) for i in ids)):
        raise ApiError(422, "INVALID_REQUEST", "ids: must be a list of outbox item ids")
    with services().session() as session:
        conn = caller_connection(session, ref)
        n = outbox.retry_parked(session, conn.id, ids)
    return jsonify({"retried": n})
