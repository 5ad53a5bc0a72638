"""The REST API under /api/v1: JSON in and out, tenant-scoped, described at /api/v1/openapi.json."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Route modules attach their views to ``bp`` on import.
from integration.api import (analytics, connections, map_endpoints, openapi, records,  # noqa: E402,F401
                             workspace)
