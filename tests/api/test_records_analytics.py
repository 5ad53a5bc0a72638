"""Records and analytics endpoints on SQLite and PostgreSQL: the period (from/to), the filters,
search (q) and the CSV export, over a small stored book written straight into the store."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from integration.app import create_app
from integration.sandboxes import sandbox_settings
from integration.store.models import CrmOwner, RecordState
from integration.store.records import replace_events
from integration.store.tenancy import get_or_create_tenant, issue_token

RECORDS = "/api/v1/connections/book/records"
BASE = "/api/v1/connections/book/analytics/"
ANALYTICS = [BASE + name for name in ("funnel", "time-in-stage", "stalled", "kpis", "outcomes",
                                      "trends", "cohorts", "journeys")]
#: A name with a comma, quotes, a line break, and a spreadsheet formula at its start.
TRICKY_NAME = '=SUM(1), "Big"\nDeal'


def at(year, month, day, hour=12):
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


#: (object, id, name, email, country, lead source, owner, persona, stalled, [(stage, in, out)])
BOOK = [
    ("deal", "d1", "Acme Renewal", None, "DE", "Referral", "o1", "buyer", True,
     [("awareness", at(2026, 1, 5), at(2026, 2, 10)), ("consideration", at(2026, 2, 10), None)]),
    ("contact", "c1", "Jane Doe", "Jane.Doe@Example.com", "US", "Web", "o2", "champion", False,
     [("awareness", at(2026, 3, 1), None)]),
    ("deal", "d2", TRICKY_NAME, None, "US", "Referral", None, "buyer", True,
     [("awareness", at(2025, 12, 1), at(2025, 12, 20)),
      ("consideration", at(2025, 12, 20), at(2026, 1, 20)), ("decision", at(2026, 1, 20), None)]),
]

#: The company the connector read (Salesforce account or lead company, HubSpot contact company).
COMPANY = {"c1": "Globex Corp", "d2": "Initech"}
#: Owner names as the CRM gives them; "o3" owns nothing and shares o1's name in another case.
OWNERS = {"o1": "Dana Reyes", "o2": "Sam Okafor", "o3": "DANA REYES"}


@pytest.fixture(scope="module")
def app(services):
    return create_app(services.settings, services)


@pytest.fixture(scope="module")
def headers(app, services, hs_sandbox):
    with services.session() as s:
        token = issue_token(s, get_or_create_tenant(s, "analyst").id)
    h = {"Authorization": f"Bearer {token}"}
    res = app.test_client().post("/api/v1/connections", headers=h,
                                 json={"name": "book", "crm": "hubspot",  # checked with its CRM
                                       "settings": sandbox_settings("hubspot", hs_sandbox.info())})
    assert res.status_code == 201, res.json
    with services.session() as s:
        for obj, crm_id, name, email, country, source, owner, persona, stalled, spans in BOOK:
            stage, entered = spans[-1][0], spans[-1][1]
            s.add(RecordState(
                connection_id=res.json["id"], object=obj, crm_id=crm_id, name=name,
                pipeline="default" if obj == "deal" else None, stage=stage, persona=persona,
                owner_id=owner, stalled=stalled, days_over=5 if stalled else 0, entered_at=entered,
                crm="hubspot", email=email, country=country, lead_source=source,
                company=COMPANY.get(crm_id),
                record={"crm": "hubspot", "object": obj, "id": crm_id, "name": name,
                        "fields": {"country": country, "lead_source": source,
                                   "company": COMPANY.get(crm_id)},
                        "identity": {"kind": "person", "email": email, "same_as": []} if email else None},
                state={"next_best_action": "Call them" if stalled else None}))
            # through the store's writer, which keeps the journey rollup with the events
            replace_events(s, res.json["id"], {(obj, crm_id): [
                {"to_stage": to_stage, "occurred_at": occurred, "exited_at": exited, "crm_stages": []}
                for to_stage, occurred, exited in spans]})
        for owner_id, name in OWNERS.items():
            s.add(CrmOwner(connection_id=res.json["id"], owner_id=owner_id, name=name))
    return h


@pytest.fixture()
def get(app, headers):
    client = app.test_client()
    return lambda url, **params: client.get(url, headers=headers, query_string=params)


def ids(res):
    assert res.status_code == 200, res.json
    return sorted(r["id"] for r in res.json["records"])


@pytest.mark.parametrize("params, named", [
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "20260101"}, "from"),
    ({"to": "2026-01-01T00:00:00"}, "to"), ({"from": "2026-W01-1"}, "from"), ({"from": "2026-03-02", "to": "2026-03-01"}, "after"),
    ({"crm": "pipedrive"}, "crm"), ({"q": "x" * 201}, "q"), ({"country": "x" * 201}, "country"),
])
def test_a_bad_period_or_filter_is_a_400_naming_it(get, params, named):
    for url in [RECORDS, *ANALYTICS]:
        res = get(url, **params)
        assert res.status_code == 400, (url, res.json)
        assert res.json["error"]["code"] == "BAD_PARAMETER" and named in res.json["error"]["message"]


def test_a_bad_format_is_a_400(get):
    res = get(RECORDS, format="xlsx")
    assert res.status_code == 400 and "format" in res.json["error"]["message"]


def test_the_last_possible_day_is_a_period_end_not_an_error(get):
    assert ids(get(RECORDS, to="9999-12-31")) == ["c1", "d1", "d2"]


@pytest.mark.parametrize("params, expected", [
    ({}, ["c1", "d1", "d2"]),
    ({"crm": "hubspot"}, ["c1", "d1", "d2"]), ({"crm": "salesforce"}, []),
    ({"object": "contact"}, ["c1"]), ({"pipeline": "default"}, ["d1", "d2"]),
    ({"persona": "buyer"}, ["d1", "d2"]), ({"owner": "o1"}, ["d1"]),
    ({"country": "US"}, ["c1", "d2"]), ({"lead_source": "Referral"}, ["d1", "d2"]),
    ({"country": "US", "lead_source": "Referral"}, ["d2"]), ({"stage": "decision"}, ["d2"]),
    ({"stalled": "true"}, ["d1", "d2"]), ({"stalled": "false"}, ["c1"]),
])
def test_records_take_every_filter(get, params, expected):
    assert ids(get(RECORDS, **params)) == expected


@pytest.mark.parametrize("name, expected", [
    ("Dana Reyes", ["d1"]), ("  dana reyes ", ["d1"]), ("Sam Okafor", ["c1"]),
    ("Dana", []), ("Nobody", []),
])
def test_records_take_an_owner_by_name_in_any_case(get, name, expected):
    assert ids(get(RECORDS, owner_name=name)) == expected
    assert sorted(r["id"] for r in parse_csv(get(RECORDS, owner_name=name, format="csv"))) == expected


def test_analytics_take_an_owner_by_name(get):
    assert get(ANALYTICS[2], owner_name="dana reyes").json["by_owner"] == {"o1": 1}
    assert get(ANALYTICS[1], owner_name="Sam Okafor").json["stages"][0]["count"] == \
        get(ANALYTICS[1], owner="o2").json["stages"][0]["count"]


@pytest.mark.parametrize("params, expected", [
    ({"from": "2026-02-01"}, ["c1", "d1"]),
    ({"to": "2026-02-10"}, ["d1", "d2"]),  # the last day is included
    ({"to": "2026-02-09"}, ["d2"]),
    ({"from": "2026-02-10", "to": "2026-02-10"}, ["d1"]),
    ({"from": "2026-02-11", "to": "2026-02-28"}, []),
])
def test_records_period_is_the_date_their_current_stage_was_entered(get, params, expected):
    assert ids(get(RECORDS, **params)) == expected


@pytest.mark.parametrize("q, expected", [
    ("jane", ["c1"]), ("EXAMPLE.com", ["c1"]), ("acme", ["d1"]), ("big", ["d2"]),
    ("globex", ["c1"]), ("INITECH", ["d2"]), ("%", []), ("_", []), ("nobody", []),
])
def test_search_matches_name_email_and_company_case_insensitively(get, q, expected):
    assert ids(get(RECORDS, q=q)) == expected


def parse_csv(res):
    assert res.status_code == 200
    assert res.mimetype == "text/csv"
    assert res.headers["Content-Disposition"] == 'attachment; filename="book-records.csv"'
    return list(csv.DictReader(io.StringIO(res.get_data(as_text=True), newline="")))


def test_csv_export_has_a_header_and_every_record_quoted_properly(get):
    res = get(RECORDS, format="csv", sort="entered_at")
    text = res.get_data(as_text=True)
    assert text.splitlines()[0].split(",")[:4] == ["object", "id", "name", "stage"]
    rows = parse_csv(res)
    assert [r["id"] for r in rows] == ["d2", "d1", "c1"]  # sorted as asked, no paging limit
    tricky = rows[0]
    # The comma, quotes and line break survive; the formula is defused with a leading quote.
    assert tricky["name"] == "'" + TRICKY_NAME
    assert tricky["stage_entered_at"] == "2026-01-20T12:00:00+00:00"
    assert tricky["owner_id"] == "" and tricky["stalled"] == "True"
    assert rows[1]["next_best_action"] == "Call them" and rows[2]["next_best_action"] == ""


@pytest.mark.parametrize("params, expected", [
    ({"stalled": "true"}, ["d1", "d2"]), ({"q": "jane"}, ["c1"]),
    ({"from": "2026-02-01", "country": "DE"}, ["d1"]), ({"crm": "salesforce"}, []),
])
def test_csv_export_takes_any_view(get, params, expected):
    assert sorted(r["id"] for r in parse_csv(get(RECORDS, format="csv", **params))) == expected


def test_csv_of_an_unknown_connection_is_a_json_404(app, headers):
    res = app.test_client().get("/api/v1/connections/nope/records?format=csv", headers=headers)
    assert res.status_code == 404 and res.json["error"]["code"] == "NOT_FOUND"


def funnel(get, **params):
    res = get(ANALYTICS[0], **params)
    assert res.status_code == 200, res.json
    return {row["stage"]: (row["reached"], row["entered"]) for row in res.json["stages"]}


def test_funnel_counts_only_stage_entries_made_in_the_period(get):
    everything = funnel(get)
    assert (everything["awareness"], everything["consideration"], everything["decision"]) == (
        (3, 3), (2, 2), (1, 1))
    # d2 entered awareness and consideration in December: outside the period, so not entered.
    in_2026 = funnel(get, **{"from": "2026-01-01"})
    assert (in_2026["awareness"], in_2026["consideration"], in_2026["decision"]) == (
        (3, 2), (2, 1), (1, 1))
    # Before 2026 only d2 moved, and it got to consideration.
    in_2025 = funnel(get, to="2025-12-31")
    assert (in_2025["awareness"], in_2025["consideration"], in_2025["decision"]) == (
        (1, 1), (1, 1), (0, 0))


def test_funnel_takes_the_filters(get):
    us = funnel(get, country="US")
    assert (us["awareness"], us["decision"]) == ((2, 2), (1, 1))
    assert funnel(get, crm="salesforce")["awareness"] == (0, 0)
    assert funnel(get, q="acme")["consideration"] == (1, 1)
    assert funnel(get, lead_source="Web", object="contact")["awareness"] == (1, 1)


def test_time_in_stage_counts_stays_begun_in_the_period(get):
    res = get(ANALYTICS[1], to="2025-12-31", pipeline="default")
    assert res.status_code == 200, res.json
    rows = {row["stage"]: row for row in res.json["stages"]}
    assert (rows["awareness"]["count"], rows["awareness"]["median"]) == (1, 19.0)
    assert (rows["consideration"]["count"], rows["consideration"]["median"]) == (1, 31.0)
    assert rows["decision"]["count"] == 0
    assert get(ANALYTICS[1], owner="o2").json["stages"][0]["count"] == 1


@pytest.mark.parametrize("params, total, by_owner", [
    ({}, 2, {"o1": 1, "(none)": 1}), ({"country": "DE"}, 1, {"o1": 1}),
    ({"from": "2026-02-01"}, 1, {"o1": 1}), ({"q": "jane"}, 0, {}),
    ({"persona": "buyer", "lead_source": "Referral", "to": "2026-01-31"}, 1, {"(none)": 1}),
])
def test_stalled_counts_take_the_period_and_filters(get, params, total, by_owner):
    res = get(ANALYTICS[2], **params)
    assert res.status_code == 200, res.json
    assert (res.json["total"], res.json["by_owner"]) == (total, by_owner)
    assert sum(res.json["by_stage"].values()) == total


def test_the_openapi_document_declares_the_new_parameters_and_csv(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    for path in ["/connections/{ref}/records", "/connections/{ref}/analytics/funnel",
                 "/connections/{ref}/analytics/time-in-stage", "/connections/{ref}/analytics/stalled"]:
        params = {p["name"]: p["schema"] for p in doc["paths"][path]["get"]["parameters"]}
        assert {"from", "to", "crm", "object", "pipeline", "persona", "owner", "owner_name",
                "country", "lead_source", "q", "stalled"} <= set(params)
        assert params["from"]["format"] == "date" and "hubspot" in params["crm"]["enum"]
    records = doc["paths"]["/connections/{ref}/records"]["get"]
    assert {p["name"]: p["schema"] for p in records["parameters"]}["format"]["enum"] == ["json", "csv"]
    ok = records["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
    assert "Content-Disposition" in ok["headers"]


def answer(get, name, **params):
    res = get(BASE + name, **params)
    assert res.status_code == 200, res.json
    return res.json


def test_funnel_offers_the_strict_type(get):
    rows = {r["stage"]: r for r in answer(get, "funnel")["stages"]}
    # d2 went awareness > consideration > decision in order; d1 to consideration; c1 stays.
    assert [rows[k]["strict"] for k in ("awareness", "consideration", "decision", "purchase")] == [3, 2, 1, 0]
    assert rows["decision"]["strict_conversion"] == 0.5
    # From February, d1's awareness entry is outside the period: it did not start at the first stage.
    feb = {r["stage"]: r for r in answer(get, "funnel", **{"from": "2026-02-01"})["stages"]}
    assert (feb["awareness"]["strict"], feb["consideration"]["strict"]) == (1, 0)
    assert feb["consideration"]["entered"] == 1


def test_kpis_set_actuals_against_the_maps_targets(get):
    rows = {r["stage"]: r for r in answer(get, "kpis")["stages"]}
    awareness = rows["awareness"]
    assert (awareness["owner"], awareness["conversion_target"], awareness["median_days_target"]) == (
        "Marketing", 40.0, 10)
    assert awareness["conversion"] == pytest.approx(2 / 3) and awareness["conversion_missed"] is False
    assert awareness["median_days"] >= 36 and awareness["median_days_missed"] is True
    us = {r["stage"]: r for r in answer(get, "kpis", country="US", to="2025-12-31")["stages"]}
    assert us["awareness"]["median_days"] == 19.0 and us["awareness"]["conversion"] == 1.0


def test_outcomes_take_filters_and_period(get):
    rows = {r["stage"]: r for r in answer(get, "outcomes")["stages"]}
    assert (rows["awareness"]["stays"], rows["awareness"]["moved_on"], rows["awareness"]["still_there"]) == (3, 2, 1)
    assert rows["awareness"]["exits"] == {"lost": 0, "converted": 0}
    de = {r["stage"]: r for r in answer(get, "outcomes", country="DE", **{"from": "2026-02-01"})["stages"]}
    assert (de["awareness"]["stays"], de["consideration"]["stays"], de["consideration"]["still_there"]) == (0, 1, 1)


@pytest.mark.parametrize("unit, awareness", [
    ("month", [("2025-12-01", 1, 1, 19.0), ("2026-01-01", 1, 1, 36.0), ("2026-03-01", 1, 0, None)]),
    ("week", [("2025-12-01", 1, 1, 19.0), ("2026-01-05", 1, 1, 36.0), ("2026-02-23", 1, 0, None)]),
])
def test_trends_bucket_by_week_or_month(get, unit, awareness):
    report = answer(get, "trends", unit=unit, **{"from": "2025-01-01"})
    assert report["unit"] == unit
    points = report["stages"][0]["points"]
    assert [(p["bucket"], p["stays"], p["moved_on"]) for p in points] == [a[:3] for a in awareness]
    assert [p["median"] for p in points][:2] == [a[3] for a in awareness][:2]
    assert answer(get, "trends", owner="o2", **{"from": "2025-01-01"})["buckets"] == ["2026-03-01"]


def test_trends_default_to_months(get):
    assert answer(get, "trends", **{"from": "2025-01-01"})["unit"] == "month"


@pytest.mark.parametrize("params", [{"unit": "day"}, {"unit": ""}])
def test_a_bad_trend_unit_is_a_400(get, params):
    res = get(BASE + "trends", **params)
    assert res.status_code == 400 and "unit" in res.json["error"]["message"]


def test_cohorts_by_month_of_first_stage(get):
    rows = answer(get, "cohorts", **{"from": "2025-01-01"})["cohorts"]
    assert [(r["cohort"], r["records"]) for r in rows] == [("2025-12-01", 1), ("2026-01-01", 1), ("2026-03-01", 1)]
    assert [s["records"] for s in rows[0]["reached"]][:4] == [1, 1, 1, 0]
    assert [r["cohort"] for r in answer(get, "cohorts", **{"from": "2026-01-01", "to": "2026-02-28"})["cohorts"]] == [
        "2026-01-01"]
    assert answer(get, "cohorts", persona="champion", **{"from": "2025-01-01"})["cohorts"][0]["cohort"] == "2026-03-01"


def test_journeys_list_common_paths_and_take_the_paths_parameter(get):
    report = answer(get, "journeys")
    assert [(p["stages"], p["records"]) for p in report["paths"]] == [
        (["awareness"], 1), (["awareness", "consideration"], 1), (["awareness", "consideration", "decision"], 1)]
    assert report["skipped"][1] == {"stage": "consideration", "label": "Consideration", "moves": 0}
    assert len(answer(get, "journeys", paths=1)["paths"]) == 1
    assert answer(get, "journeys", object="deal", **{"from": "2026-01-01"})["paths"] == [
        {"stages": ["awareness", "consideration"], "labels": ["Awareness", "Consideration"], "records": 1},
        {"stages": ["decision"], "labels": ["Decision"], "records": 1}]


@pytest.mark.parametrize("value", ["0", "51", "many"])
def test_a_bad_paths_count_is_a_400(get, value):
    res = get(BASE + "journeys", paths=value)
    assert res.status_code == 400 and "paths" in res.json["error"]["message"]


def test_parameters_of_one_operation_are_refused_by_the_others(get):
    res = get(BASE + "funnel", unit="week")
    assert res.status_code == 400 and "unit" in res.json["error"]["message"]


def test_the_openapi_document_declares_the_analytics_parameters(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    for name in ("kpis", "outcomes", "trends", "cohorts", "journeys"):
        params = {p["name"]: p["schema"] for p in doc["paths"][f"/connections/{{ref}}/analytics/{name}"]["get"]["parameters"]}
        assert {"from", "to", "crm", "object", "pipeline", "persona", "owner", "country", "lead_source"} <= set(params)
    trends = {p["name"]: p["schema"] for p in doc["paths"]["/connections/{ref}/analytics/trends"]["get"]["parameters"]}
    assert trends["unit"]["enum"] == ["week", "month"]
    journeys = {p["name"]: p["schema"] for p in doc["paths"]["/connections/{ref}/analytics/journeys"]["get"]["parameters"]}
    assert (journeys["paths"]["minimum"], journeys["paths"]["maximum"]) == (1, 50)
