"""Sign-in, sign-out, sessions and CSRF on the pages."""
from __future__ import annotations

import pytest

from tests.ui.conftest import EMAIL, PASSWORD, page_csrf


def test_pages_send_visitors_to_sign_in_and_back(world):
    c = world.app.test_client()
    target = f"/connections/{world.connection_id}/dashboard"
    response = c.get(target)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    html = c.get(response.headers["Location"]).get_data(as_text=True)
    signed = c.post(f"/sign-in?next={target}", data={"email": EMAIL, "password": PASSWORD,
                                                      "csrf_token": page_csrf(html)})
    assert signed.status_code == 302 and signed.headers["Location"] == target
    assert c.get(target).status_code == 200


def test_sign_in_without_the_form_token_is_refused(world):
    c = world.app.test_client()
    c.get("/sign-in")
    response = c.post("/sign-in", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 401
    assert "form had expired" in response.get_data(as_text=True)
    assert c.get("/").status_code == 302


def test_wrong_password_is_refused_and_says_so(world):
    c = world.app.test_client()
    html = c.get("/sign-in").get_data(as_text=True)
    response = c.post("/sign-in", data={"email": EMAIL, "password": "wrong",
                                        "csrf_token": page_csrf(html)})
    assert response.status_code == 401
    assert "did not match an account" in response.get_data(as_text=True)
    assert c.get("/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/steal", "/\\evil.example", "https://evil.example/"])
def test_admin_token_signs_in_and_an_outside_next_is_ignored(world, target):
    c = world.app.test_client()
    html = c.get("/sign-in").get_data(as_text=True)
    response = c.post("/sign-in", query_string={"next": target}, data={
        "token": world.token, "csrf_token": page_csrf(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "hubspot-main" in c.get("/").get_data(as_text=True)


def test_sign_in_starts_a_new_session(world):
    c = world.app.test_client()
    before = page_csrf(c.get("/sign-in").get_data(as_text=True))
    c.post("/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": before})
    after = page_csrf(c.get("/").get_data(as_text=True))
    assert after != before


def test_sign_out_needs_the_csrf_token(client):
    assert client.post("/sign-out").status_code == 400
    assert client.get("/").status_code == 200
    response = client.post("/sign-out", data={"csrf_token": client.csrf})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_another_tenants_connection_is_not_found(client, world):
    for page in ("dashboard", "map", "health", "setup", "map/history"):
        response = client.get(f"/connections/{world.other_connection_id}/{page}")
        assert response.status_code == 404, page
        assert "no connection" in response.get_data(as_text=True)


def test_session_calls_to_the_api_need_the_csrf_header(client, world):
    url = f"/api/v1/connections/{world.connection_id}"
    refused = client.patch(url, json={"sync_interval_seconds": 600})
    assert refused.status_code == 403
    accepted = client.patch(url, json={"sync_interval_seconds": 600},
                            headers={"X-CSRF-Token": client.csrf})
    assert accepted.status_code == 200 and accepted.get_json()["sync_interval_seconds"] == 600
