"""The sandbox's OAuth 2.0 side: client credentials, issued tokens, authorization codes, grants.

Token responses and ``{"error", "error_description"}`` bodies follow Salesforce's
``/services/oauth2/token``; the signature is HMAC-SHA256 of ``id + issued_at`` keyed by the client
secret, as Salesforce signs it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

import jwt

JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class OAuthError(Exception):
    """A refused token request: ``error`` and ``error_description`` as Salesforce names them."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    expires: float


class TokenAuthority:
    """Issues and checks access tokens, refresh tokens and authorization codes for one org."""

    def __init__(self, *, org_id: str, user_id: str, username: str, client_id: str, client_secret: str,
                 ttl_seconds: float, jwt_public_key: str | bytes) -> None:
        self.org_id = org_id
        self.user_id = user_id
        self.username = username
        self.client_id = client_id
        self._client_secret = client_secret
        self.ttl_seconds = ttl_seconds
        self._jwt_public_key = jwt_public_key
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------- checking
    def valid(self, access_token: str | None) -> bool:
        """True when ``access_token`` was issued here and has not expired."""
        with self._lock:
            expires = self._access.get(access_token or "")
        return expires is not None and expires > time.monotonic()

    def expire_all(self) -> int:
        """Expire every access token now (refresh tokens stay valid); returns how many."""
        with self._lock:
            count = len(self._access)
            self._access = {t: 0.0 for t in self._access}
        return count

    # -------------------------------------------------------------------------- issuing
    def issue(self, *, login_url: str, instance_url: str, with_refresh: bool) -> dict[str, Any]:
        """A token response body (the same shape for every grant)."""
        access = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
        with self._lock:
            self._access[access] = time.monotonic() + self.ttl_seconds
        identity = f"{login_url}/id/{self.org_id}/{self.user_id}"
        issued_at = str(int(time.time() * 1000))
        signature = base64.b64encode(hmac.new(self._client_secret.encode(), (identity + issued_at).encode(),
                                              hashlib.sha256).digest()).decode()
        body: dict[str, Any] = {"access_token": access, "signature": signature, "scope": "api refresh_token",
                                "instance_url": instance_url, "id": identity, "token_type": "Bearer",
                                "issued_at": issued_at}
        if with_refresh:
            refresh = f"5Aep{secrets.token_urlsafe(64)}"
            with self._lock:
                self._refresh.add(refresh)
            body["refresh_token"] = refresh
        return body

    def authorization_code(self, client_id: str, redirect_uri: str) -> str:
        """A one-time code for the web-server flow (valid 15 minutes, like Salesforce's)."""
        self._check_client_id(client_id)
        code = f"aPrx{secrets.token_urlsafe(48)}"
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, time.monotonic() + 900)
        return code

    # --------------------------------------------------------------------------- grants
    def grant(self, form: Mapping[str, str], *, login_url: str, instance_url: str) -> dict[str, Any]:
        """Answer a ``POST /services/oauth2/token`` form, or raise :class:`OAuthError`."""
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            self._check_client(form, secret_required=True)
            self._take_code(form.get("code", ""), form.get("client_id", ""), form.get("redirect_uri", ""))
            return self.issue(login_url=login_url, instance_url=instance_url, with_refresh=True)
        if grant_type == "refresh_token":
            self._check_client(form, secret_required=False)
            with self._lock:
                known = form.get("refresh_token", "") in self._refresh
            if not known:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            return self.issue(login_url=login_url, instance_url=instance_url, with_refresh=False)
        if grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._check_assertion(form.get("assertion", ""), login_url)
            return self.issue(login_url=login_url, instance_url=instance_url, with_refresh=False)
        if grant_type == "client_credentials":
            self._check_client(form, secret_required=True)
            return self.issue(login_url=login_url, instance_url=instance_url, with_refresh=False)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _check_client_id(self, client_id: str) -> None:
        if not hmac.compare_digest(client_id, self.client_id):
            raise OAuthError("invalid_client_id", "client identifier invalid")

    def _check_client(self, form: Mapping[str, str], *, secret_required: bool) -> None:
        self._check_client_id(form.get("client_id", ""))
        secret = form.get("client_secret")
        if secret is None and not secret_required:
            return
        if not hmac.compare_digest(secret or "", self._client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _take_code(self, code: str, client_id: str, redirect_uri: str) -> None:
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry.expires < time.monotonic() or entry.client_id != client_id:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if entry.redirect_uri != redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")

    def _check_assertion(self, assertion: str, login_url: str) -> None:
        try:
            claims = jwt.decode(assertion, self._jwt_public_key, algorithms=["RS256"],
                                audience=[login_url, *JWT_AUDIENCES], options={"require": ["exp", "iss", "sub"]})
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_grant", "expired authorization code") from None
        except jwt.InvalidTokenError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if claims["iss"] != self.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if claims["sub"] != self.username:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
