"""Web pages for RevOps and admins: sign-in, install, mapping editor, dashboard, record, health.

Pages are server-rendered; their scripts change things through the REST API (session cookie plus
the ``X-CSRF-Token`` header), and every form posted to a page carries the session's CSRF token.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

# Route modules attach their views to ``bp`` on import.
from integration.ui import (dashboard, editor, health, install_pages, records_page,  # noqa: E402,F401
                            records_tasks, signin, unmapped_page, workspace_pages)
