"""Prometheus metrics at /metrics: request counts and latency per endpoint."""
from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


def init_app(app: Flask) -> None:
    """Count and time every request; serve the figures at /metrics.

    Each app gets its own registry, so several apps in one process (tests) do not collide.
    """
    registry = CollectorRegistry()
    requests = Counter("journey_http_requests_total", "HTTP requests",
                       ["endpoint", "method", "status"], registry=registry)
    latency = Histogram("journey_http_request_seconds", "HTTP request latency", ["endpoint"],
                        registry=registry)

    @app.before_request
    def _start():
        g._t0 = time.perf_counter()

    @app.after_request
    def _record(response):
        endpoint = request.endpoint or "unknown"
        requests.labels(endpoint, request.method, str(response.status_code)).inc()
        if hasattr(g, "_t0"):
            latency.labels(endpoint).observe(time.perf_counter() - g._t0)
        return response

    @app.get("/metrics")
    def metrics():
        """Prometheus text format."""
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
