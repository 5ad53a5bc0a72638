"""Tenants, admin API tokens (kept as SHA-256 digests) and password users."""
from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from integration.store.models import ApiToken, Tenant, User
from integration.store.types import utcnow

TOKEN_PREFIX = "jsk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_or_create_tenant(session: Session, name: str) -> Tenant:
    """The tenant called ``name``, created if missing."""
    tenant = session.exec(select(Tenant).where(Tenant.name == name)).first()
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant


def issue_token(session: Session, tenant_id: int, name: str = "admin") -> str:
    """Create an admin token and return it in clear; only its digest is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(tenant_id=tenant_id, name=name, token_hash=_digest(token)))
    session.flush()
    return token


def tenant_for_token(session: Session, token: str) -> int | None:
    """The tenant id an admin token belongs to, or None for an unknown token."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None:
        return None
    row.last_used_at = utcnow()
    session.add(row)
    return row.tenant_id


def create_user(session: Session, tenant_id: int, email: str, password: str) -> User:
    """Add a web user; the password is stored as a salted hash."""
    user = User(tenant_id=tenant_id, email=email.strip().lower(),
                password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


#: Checked when no user has the e-mail, so an unknown address costs the same hashing time as a
#: wrong password and the answer time does not tell which e-mails have accounts.
_NO_USER_HASH = generate_password_hash(secrets.token_urlsafe(16))


def authenticate_user(session: Session, email: str, password: str) -> User | None:
    """The user whose email and password match, else None (in the same time either way)."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    matches = check_password_hash(user.password_hash if user else _NO_USER_HASH, password)
    return user if user is not None and matches else None
