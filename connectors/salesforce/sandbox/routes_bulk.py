"""``/services/data/vXX.X/jobs/``: Bulk API 2.0 query and ingest jobs (see ``bulk``)."""
from __future__ import annotations

from flask import Flask, Response, request

from connectors.salesforce.sandbox.bulk import RESULT_KINDS, BulkJobs
from connectors.salesforce.sandbox.http_common import DATA, json_object, json_response
from connectors.salesforce.sandbox.org import RequestError

CSV = "text/csv; charset=UTF-8"


def register(app: Flask, jobs: BulkJobs) -> None:
    """Add the Bulk API 2.0 routes to ``app``."""

    @app.post(DATA + "jobs/query", strict_slashes=False)
    def create_query(version: str) -> Response:
        return json_response(jobs.create_query(json_object(), version))

    @app.post(DATA + "jobs/ingest", strict_slashes=False)
    def create_ingest(version: str) -> Response:
        return json_response(jobs.create_ingest(json_object(), version).info())

    for kind in ("query", "ingest"):
        _register_job_routes(app, jobs, kind)

    @app.get(DATA + "jobs/query/<job_id>/results")
    def query_results(version: str, job_id: str) -> Response:
        body, count, locator = jobs.query_page(job_id, request.args.get("locator"),
                                               request.args.get("maxRecords"))
        return Response(body, status=200, content_type=CSV,
                        headers={"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)})

    @app.put(DATA + "jobs/ingest/<job_id>/batches")
    def upload(version: str, job_id: str) -> Response:
        if not request.content_type or not request.content_type.startswith("text/csv"):
            raise RequestError(400, "API_ERROR", "Job data must be sent as text/csv")
        jobs.upload(job_id, request.get_data())
        return Response(status=201)

    @app.get(DATA + "jobs/ingest/<job_id>/<what>")
    def ingest_results(version: str, job_id: str, what: str) -> Response:
        if what not in RESULT_KINDS:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return Response(jobs.ingest_results(job_id, what), status=200, content_type=CSV)


def _register_job_routes(app: Flask, jobs: BulkJobs, kind: str) -> None:
    """GET (info), PATCH (state) and DELETE of one job of ``kind``; one rule per kind so the
    sandbox's counters name the route (``GET jobs/query/<job_id>``)."""
    rule = DATA + f"jobs/{kind}/<job_id>"

    def info(version: str, job_id: str) -> Response:
        return json_response(jobs.get(kind, job_id).info())

    def state(version: str, job_id: str) -> Response:
        return json_response(jobs.set_state(kind, job_id, json_object()))

    def delete(version: str, job_id: str) -> Response:
        jobs.delete(kind, job_id)
        return Response(status=204)

    app.add_url_rule(rule, f"bulk_{kind}_info", info, methods=["GET"])
    app.add_url_rule(rule, f"bulk_{kind}_state", state, methods=["PATCH"])
    app.add_url_rule(rule, f"bulk_{kind}_delete", delete, methods=["DELETE"])
