"""The Flask application factory: ``create_app(settings) -> Flask``.

gunicorn serves ``integration.app:create_app()``; tests and the demo pass their own settings.
"""
from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from integration import bounds, web_security
from integration.config import Settings, load_settings
from integration.services import Services, build_services
from integration.store.db import require_current_schema


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 for datetimes (Flask's default is the HTTP date format); bounded JSON reading."""

    def loads(self, s, **kwargs):  # noqa: D102
        return bounds.bounded_json(s)

    @staticmethod
    def default(o):  # noqa: D102
        if isinstance(o, datetime):
            return o.isoformat()
        if isinstance(o, Decimal):
            return float(o)
        return DefaultJSONProvider.default(o)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the web app: REST API, CRM webhooks, rep cards, pages, health and metrics.

    Refuses to start (:class:`~integration.store.db.SchemaBehind`) when the database schema is
    behind the code: migrating is the release step ``journey db upgrade``, not every worker's job.
    """
    settings = settings or (services.settings if services else load_settings())
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services = services or build_services(settings)
    require_current_schema(services.engine)

    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(SECRET_KEY=settings.session_secret, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax")
    bounds.init_app(app, settings.max_body_bytes)
    app.extensions["journey"] = services
    web_security.init_app(app, settings)

    from integration import metrics
    from integration.api import bp as api_bp
    from integration.api import errors
    from integration.crm_endpoints import bp as crm_bp
    from integration.ui import bp as ui_bp

    errors.init_app(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(crm_bp)
    app.register_blueprint(ui_bp)
    metrics.init_app(app)

    @app.get("/healthz")
    def healthz():
        """Liveness: the process answers and the database is reachable."""
        with services.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return jsonify({"ok": True})

    return app
