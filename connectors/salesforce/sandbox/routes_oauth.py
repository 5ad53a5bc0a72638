"""``/services/oauth2/``: token grants, the authorize redirect and userinfo."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, redirect, request

from connectors.salesforce.sandbox.http_common import Sandbox, json_response
from connectors.salesforce.sandbox.oauth import OAuthError


def register(app: Flask, sandbox: Sandbox) -> None:
    """Add the OAuth routes to ``app``."""

    @app.post("/services/oauth2/token")
    def token() -> Response:
        urls = sandbox.urls()
        try:
            body = sandbox.tokens.grant(request.form, login_url=urls["login_url"], instance_url=urls["instance_url"])
        except OAuthError as exc:
            return json_response(exc.body(), exc.status)
        return json_response(body)

    @app.get("/services/oauth2/authorize")
    def authorize() -> Response:
        args = request.args
        if args.get("response_type") != "code":
            return Response("error=unsupported_response_type&error_description=response type not supported",
                            400, mimetype="text/plain")
        try:
            code = sandbox.tokens.authorization_code(args.get("client_id", ""), args.get("redirect_uri", ""))
        except OAuthError as exc:
            return Response(urlencode(exc.body()), 400, mimetype="text/plain")
        target = args.get("redirect_uri", "")
        params = {"code": code, **({"state": args["state"]} if "state" in args else {})}
        return redirect(target + ("&" if "?" in target else "?") + urlencode(params), 302)

    @app.get("/services/oauth2/userinfo")
    def userinfo() -> Response:
        org = sandbox.org
        return json_response({"sub": f"{sandbox.urls()['login_url']}/id/{org.org_id}/{org.user_id}",
                              "user_id": org.user_id, "organization_id": org.org_id,
                              "preferred_username": sandbox.tokens.username, "active": True, "user_type": "STANDARD"})
