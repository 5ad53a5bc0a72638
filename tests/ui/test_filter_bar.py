"""The shared period and filter bar: presets, quarters and custom dates become the API's from/to;
every filter narrows the dashboard the way it narrows the API."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from integration.store.types import utcnow
from integration.ui.filters import period_choices
from integration.view_args import FilterError, parse_period
from tests.ui.test_dashboard import api, dashboard, section

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize("args, first, last", [
    ({"period": "30d"}, date(2026, 11, 1), TODAY),
    ({"period": "90d"}, date(2026, 9, 2), TODAY),
    ({"period": "365d"}, date(2025, 12, 1), TODAY),
    ({"period": "2026-Q3"}, date(2026, 7, 1), date(2026, 9, 30)),
    ({"period": "2025-Q4"}, date(2025, 10, 1), date(2025, 12, 31)),
    ({"period": "2024-Q1"}, date(2024, 1, 1), date(2024, 3, 31)),
    ({"period": "custom", "from": "2026-02-03", "to": "2026-03-04"}, date(2026, 2, 3), date(2026, 3, 4)),
    ({"from": "2026-02-03"}, date(2026, 2, 3), None),
    ({"period": "90d", "from": "2020-01-01"}, date(2026, 9, 2), TODAY),
    ({}, None, None),
    ({"period": "all"}, None, None),
])
def test_periods_name_their_days(args, first, last):
    period = parse_period(args, TODAY)
    assert (period.first, period.last) == (first, last)
    since, until = period.bounds()
    assert (since.date() if since else None) == first
    assert (until.date() - timedelta(days=1) if until else None) == last


@pytest.mark.parametrize("args, message", [
    ({"period": "7d"}, "period: one of 30d, 90d, 365d, all, custom or a quarter"),
    ({"period": "2026-Q5"}, "period: one of"),
    ({"period": "custom", "from": "2026-13-01"}, "is not a date"),
    ({"period": "custom", "to": "01/02/2026"}, "a date as YYYY-MM-DD"),
    ({"period": "custom", "from": "2026-05-02", "to": "2026-05-01"}, "from (2026-05-02) is after to"),
])
def test_bad_periods_say_why(args, message):
    with pytest.raises(FilterError, match=re.escape(message)):
        parse_period(args, TODAY)


def test_the_menu_offers_this_quarter_and_four_before():
    values = [value for value, _ in period_choices(TODAY)]
    assert values == ["30d", "90d", "365d", "2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4",
                      "all", "custom"]
    assert [v for v, _ in period_choices(date(2026, 2, 1))][3:5] == ["2026-Q1", "2025-Q4"]


def funnel_top(page):
    return int(re.search(r'<text class="value"[^>]*>([\d,]+)', section(page, "funnel"))
               .group(1).replace(",", ""))


def test_a_rolling_period_counts_what_the_api_counts_for_its_dates(client, world):
    today = utcnow().date()
    everyone = api(client, world, "analytics/funnel")["stages"][0]["reached"]
    recent = api(client, world, "analytics/funnel", **{"from": (today - timedelta(days=29)).isoformat(),
                                                       "to": today.isoformat()})["stages"][0]["reached"]
    assert recent < everyone
    page = dashboard(client, world, period="30d")
    assert funnel_top(page) == recent
    assert '<option value="30d" selected>Last 30 days</option>' in page
    assert f"Last 30 days ({today - timedelta(days=29)} to {today})" in page


def test_custom_dates_count_like_the_api_and_stay_in_the_links(client, world):
    dates = {"from": "2020-01-01", "to": (utcnow().date() - timedelta(days=30)).isoformat()}
    expected = api(client, world, "analytics/funnel", **dates)["stages"][0]["reached"]
    page = dashboard(client, world, period="custom", **dates)
    assert funnel_top(page) == expected
    assert f'name="from" value="{dates["from"]}"' in page
    records_link = re.search(r'href="([^"]*)" id="stalled-all"', page).group(1)
    assert "period=custom" in records_link and f"from={dates['from']}" in records_link


def test_a_bad_period_is_a_clear_error(client, world):
    response = client.get(f"/connections/{world.connection_id}/dashboard?period=fortnight")
    assert response.status_code == 400
    assert "period: one of 30d, 90d, 365d" in response.get_data(as_text=True)


def test_owners_are_offered_by_name_and_narrow_the_stalled_list(client, world):
    rows = api(client, world, "records", stalled="true", limit=1000)["records"]
    owned = next(r for r in rows if r["owner_id"])
    owner, name = owned["owner_id"], owned["owner_name"]
    assert name and name != owner
    page = dashboard(client, world, owner=owner)
    assert f'<option value="{owner}" selected>{name}</option>' in page
    theirs = sum(1 for r in rows if r["owner_id"] == owner)
    assert 0 < theirs < len(rows)
    assert re.search(rf"Stalled · {theirs:,} record\(s\)", page)


@pytest.mark.parametrize("name", ["country", "lead_source", "crm", "pipeline", "persona"])
def test_every_filter_counts_like_the_api(client, world, name):
    value = _values(world, name)[0]
    expected = api(client, world, "analytics/funnel", **{name: value})["stages"][0]["reached"]
    assert expected > 0
    page = dashboard(client, world, **{name: value})
    assert f'<option value="{value}" selected>' in page
    assert funnel_top(page) == expected


def _values(world, name):
    from integration.analytics import filter_values
    with world.services.session() as db:
        values = filter_values(db, world.connection_id, name)
    assert values, f"the seed holds no {name}"
    return values
