"""Credentials the sandbox accepts: one private-app token, OAuth codes, access and refresh tokens."""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .wire import HubSpotHttpError, correlation_id

DEFAULT_SCOPES = ("oauth", "crm.objects.deals.read", "crm.objects.deals.write",
                  "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.deals.read",
                  "crm.schemas.deals.write", "crm.schemas.contacts.read",
                  "crm.schemas.contacts.write")
NO_CREDENTIALS = ("Authentication credentials not found. This API supports OAuth 2.0 authentication "
                  "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
                  "oauth-overview")


@dataclass
class AccessToken:
    token: str
    expires_at: float  # wall clock; math.inf for private-app tokens
    scopes: tuple[str, ...]


class OAuthError(Exception):
    """A token-endpoint error: HubSpot answers these as ``{status: <CODE>, message, correlationId}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"status": self.code, "message": str(self), "correlationId": correlation_id()}


class Credentials:
    """Issues and checks tokens for one portal and one app."""

    def __init__(self, *, ttl_seconds: int, hub_id: int, app_id: int = 1_234_567,
                 user_id: int = 7_654_321) -> None:
        self.ttl_seconds = ttl_seconds
        self.hub_id = hub_id
        self.app_id = app_id
        self.user_id = user_id
        self.client_id = str(uuid.uuid4())
        self.client_secret = str(uuid.uuid4())
        self.private_app_token = f"pat-na1-{uuid.uuid4()}"
        self._lock = threading.Lock()
        self._access: dict[str, AccessToken] = {
            self.private_app_token: AccessToken(self.private_app_token, float("inf"), DEFAULT_SCOPES)}
        self._refresh: dict[str, tuple[str, ...]] = {}
        self._codes: dict[str, tuple[str, tuple[str, ...], float]] = {}

    # ------------------------------------------------------------------------ issuing
    def issue(self, scopes: tuple[str, ...] = DEFAULT_SCOPES, refresh_token: str | None = None
              ) -> dict[str, Any]:
        """A token response: a new access token, and the (kept or new) refresh token."""
        access = "C" + secrets.token_urlsafe(48)
        with self._lock:
            self._access[access] = AccessToken(access, time.time() + self.ttl_seconds, scopes)
            refresh = refresh_token or str(uuid.uuid4())
            self._refresh[refresh] = scopes
        return {"token_type": "bearer", "refresh_token": refresh, "access_token": access,
                "expires_in": self.ttl_seconds}

    def authorize(self, client_id: str | None, redirect_uri: str | None, scopes: str) -> str:
        """Grant a one-time code for the consent page; ValueError names what is wrong."""
        if client_id != self.client_id:
            raise ValueError("unknown client_id")
        if not redirect_uri:
            raise ValueError("missing redirect_uri")
        code = str(uuid.uuid4())
        granted = tuple(scopes.split()) or DEFAULT_SCOPES
        with self._lock:
            self._codes[code] = (redirect_uri, granted, time.time() + 600)
        return code

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """``POST /oauth/v1/token`` for the authorization_code and refresh_token grants."""
        if form.get("client_id") != self.client_id:
            raise OAuthError("BAD_CLIENT_ID", "missing or unknown client id")
        if not secrets.compare_digest(form.get("client_secret", ""), self.client_secret):
            raise OAuthError("BAD_CLIENT_SECRET", "missing or invalid client secret")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self._lock:
                entry = self._codes.pop(form.get("code", ""), None)
            if entry is None or entry[2] < time.time():
                raise OAuthError("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != entry[0]:
                raise OAuthError("BAD_REDIRECT_URI", "redirect_uri does not match the one "
                                 "used to get the code")
            return self.issue(entry[1])
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            with self._lock:
                scopes = self._refresh.get(refresh)
            if scopes is None:
                raise OAuthError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
            return self.issue(scopes, refresh)
        raise OAuthError("BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token")

    # ------------------------------------------------------------------------ checking
    def knows(self, token: str) -> bool:
        """Whether ``token`` is an access token this portal issued (valid or expired)."""
        with self._lock:
            return token in self._access

    def check(self, authorization: str | None) -> AccessToken:
        """The bearer token of a request, or HubSpot's 401."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            found = self._access.get(token)
        if found is None:
            raise HubSpotHttpError(401, "INVALID_AUTHENTICATION", NO_CREDENTIALS)
        if found.expires_at <= time.time():
            ago = int((time.time() - found.expires_at) // 60)
            expired = datetime.fromtimestamp(found.expires_at, timezone.utc).isoformat()
            raise HubSpotHttpError(
                401, "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {ago} minute(s) ago.",
                extra={"context": {"expire time": [expired]}})
        return found

    def info(self, token: str) -> dict[str, Any]:
        """``GET /oauth/v1/access-tokens/{token}``: an ``AccessTokenInfoResponse``."""
        found = self.check(f"Bearer {token}")
        if found.token == self.private_app_token:
            raise HubSpotHttpError(404, "OBJECT_NOT_FOUND", "Token not found: not an OAuth token")
        return {"token": token, "user": "admin@sandbox.example", "hub_domain": "sandbox.example",
                "scopes": list(found.scopes), "hub_id": self.hub_id, "app_id": self.app_id,
                "expires_in": max(0, int(found.expires_at - time.time())),
                "user_id": self.user_id, "token_type": "access"}

    def expire(self) -> int:
        """Expire every OAuth access token now (private-app tokens never expire)."""
        with self._lock:
            expiring = [t for t in self._access.values() if t.expires_at != float("inf")]
            for token in expiring:
                token.expires_at = time.time() - 1
        return len(expiring)
