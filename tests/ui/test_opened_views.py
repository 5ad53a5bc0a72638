"""The pages note the views people open with their own period and filters, so the worker warms
them after each sync (integration/store/opened_views.py); the pages as they first open are warmed
anyway and not noted, and one workspace's views are not another's."""
from __future__ import annotations

from sqlalchemy import delete, select

from integration.store.models import OpenedView


def noted(world):
    with world.services.session() as db:
        return sorted(((view.connection_id, view.page, view.args) for view in db.execute(
            select(OpenedView)).scalars()), key=repr)


def test_each_page_opened_with_filters_notes_its_view_once(client, world):
    with world.services.session() as db:
        db.execute(delete(OpenedView))
    cid = world.connection_id
    for path, params in ((f"/connections/{cid}/dashboard", {}),
                         (f"/connections/{cid}/dashboard", {"period": "90d", "persona": "small_buyer"}),
                         (f"/connections/{cid}/dashboard", {"period": "90d", "persona": "small_buyer",
                                                            "funnel": "strict"}),
                         (f"/connections/{cid}/journeys", {"unit": "week", "pipeline": "default"}),
                         (f"/connections/{cid}/journeys", {"unit": "month"}),
                         ("/workspace", {"country": "Germany", "period": "custom", "from": "2026-01-01"}),
                         ("/workspace", {})):
        response = client.get(path, query_string=params)
        assert response.status_code == 200, (path, params)
    # the funnel type only draws the figures: the same view; the journeys page by month is its
    # first view
    assert noted(world) == sorted([
        (cid, "dashboard", {"period": "90d", "persona": "small_buyer"}),
        (cid, "journeys", {"pipeline": "default", "unit": "week"}),
        (None, "workspace", {"country": "Germany", "from": "2026-01-01", "period": "custom"})], key=repr)
    with world.services.session() as db:
        tenants = {view.tenant_id for view in db.execute(select(OpenedView)).scalars()}
    assert len(tenants) == 1


def test_a_view_that_cannot_be_shown_is_not_noted(client, world):
    with world.services.session() as db:
        db.execute(delete(OpenedView))
    response = client.get("/workspace", query_string={"period": "last-decade"})
    assert response.status_code == 400
    response = client.get(f"/connections/{world.other_connection_id}/dashboard",
                          query_string={"country": "Germany"})
    assert response.status_code == 404
    assert noted(world) == []
