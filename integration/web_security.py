"""What every response and every session gets: security headers, server-side sessions, the
sign-in throttle, and cookies marked ``Secure`` when the service is reached over https.

- Content-Security-Policy: scripts, styles and images from this site only (the pages keep no
  inline script or handler), no plug-ins, no framing (with X-Frame-Options for old browsers);
- X-Content-Type-Options ``nosniff`` and Referrer-Policy ``same-origin`` on everything;
- Strict-Transport-Security and ``Secure`` cookies when ``JOURNEY_PUBLIC_URL`` is https;
- a session cookie opens nothing once its server-side row is gone (signed out).
"""
from __future__ import annotations

from flask import Flask, Response, current_app, session

from integration.config import Settings
from integration.store.web_sessions import web_session_alive
from integration.signin_throttle import SignInThrottle

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")

HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}

HSTS = "max-age=31536000; includeSubDomains"


def signin_throttle() -> SignInThrottle:
    """The app's sign-in throttle."""
    return current_app.extensions["journey_signin_throttle"]


def _end_stale_session() -> None:
    """Forget a session cookie whose server-side session was ended (or never existed)."""
    if "tenant_id" not in session:
        return
    services = current_app.extensions["journey"]
    sid = session.get("sid")
    alive = False
    if isinstance(sid, str):
        with services.session() as db:
            alive = web_session_alive(db, sid)
    if not alive:
        session.clear()


def init_app(app: Flask, settings: Settings) -> None:
    """Install headers, the session check, the throttle and the cookie flags on ``app``."""
    https = settings.base_url.startswith("https://")
    app.config.update(SESSION_COOKIE_SECURE=https)
    app.extensions["journey_signin_throttle"] = SignInThrottle.from_uri(settings.rate_limit_storage)
    app.before_request(_end_stale_session)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
