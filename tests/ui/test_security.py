"""Sign-in throttling, equal timing for unknown e-mails, server-side sign-out, security headers on
every page, no inline script, https-only cookies and HSTS, owner-only database and key files."""
from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from integration import web_security
from integration.app import create_app
from integration.config import load_settings
from integration.store import tenancy
from integration.store.db import make_engine
from tests.ui.conftest import EMAIL, PASSWORD, page_csrf

TEMPLATES = Path(__file__).resolve().parents[2] / "integration" / "ui" / "templates"


@pytest.fixture()
def fresh_app(world):
    """The world's service with a throttle of its own (counters start at zero)."""
    return create_app(world.services.settings, world.services)


def attempt(client, email, password, address="10.0.0.1"):
    csrf = page_csrf(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": address})


def test_an_account_is_throttled_after_five_failures_whatever_the_address(fresh_app):
    client = fresh_app.test_client()
    statuses = [attempt(client, EMAIL, "wrong", f"10.0.0.{n}").status_code for n in range(5)]
    assert statuses == [401] * 5
    blocked = attempt(client, EMAIL, PASSWORD, "10.0.0.99")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)


def test_an_address_is_throttled_after_twenty_failures_over_any_accounts(fresh_app):
    client = fresh_app.test_client()
    assert {attempt(client, f"u{n}@x.example", "wrong").status_code for n in range(20)} == {401}
    assert attempt(client, EMAIL, PASSWORD).status_code == 429
    assert attempt(client, EMAIL, PASSWORD, "10.0.0.2").status_code == 302


def test_an_unknown_email_costs_the_same_password_check_as_a_wrong_password(world, monkeypatch):
    checked = []
    real = tenancy.check_password_hash
    monkeypatch.setattr(tenancy, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    with world.services.session() as db:
        assert tenancy.authenticate_user(db, "nobody@nowhere.example", "guess") is None
        assert tenancy.authenticate_user(db, EMAIL, "guess") is None
    assert len(checked) == 2
    assert checked[0].split("$")[0] == checked[1].split("$")[0]  # the same method and cost


def test_a_cookie_copied_before_sign_out_opens_nothing_after(world, fresh_app):
    client = fresh_app.test_client()
    assert attempt(client, EMAIL, PASSWORD).status_code == 302
    copied = client.get_cookie("session").value
    csrf = page_csrf(client.get("/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": csrf}).status_code == 302
    thief = fresh_app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").status_code == 302
    assert thief.get("/api/v1/connections").status_code == 401


@pytest.mark.parametrize("path", ["/sign-in", "/", "/api/v1/openapi.json", "/healthz", "/no-such-page"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["Content-Security-Policy"] == web_security.CSP
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers


def test_no_page_needs_inline_script():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        inline = [tag for tag in re.findall(r"<script\b[^>]*>", text)
                  if "src=" not in tag and 'type="application/json"' not in tag]
        handlers = re.findall(r"\son[a-z]+\s*=", text)
        assert (template.name, inline, handlers) == (template.name, [], [])


def test_https_public_url_gives_secure_cookies_and_hsts(world):
    settings = world.services.settings.with_overrides(public_url="https://journey.example.com")
    client = create_app(settings, world.services).test_client()
    response = client.get("/sign-in")
    assert response.headers["Strict-Transport-Security"] == web_security.HSTS
    assert "Secure" in response.headers["Set-Cookie"]


def test_database_and_key_files_are_readable_by_their_owner_only(tmp_path):
    data = tmp_path / "var"
    load_settings({"JOURNEY_DATA_DIR": str(data)})
    engine = make_engine(f"sqlite:///{data / 'journey.sqlite3'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data.iterdir()}
    assert modes == {name: 0o600 for name in modes}
    assert {"secret.key", "session.key", "journey.sqlite3"} <= set(modes)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
