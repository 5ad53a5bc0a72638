"""``journey map apply/show --workspace``, ``journey people show`` and ``journey analytics funnel``
as a user runs them: real processes, both sandboxes seeded from one file, a SQLite file."""
from __future__ import annotations

import json

from mapping import default_map_text
from tests.cli.shell import journey
from tests.sync.crms import start_crm
from tests.sync.test_people_e2e import LI_CONTACT, SEED


def test_workspace_map_people_and_funnel(env, tmp_path):
    sf, hs = start_crm("salesforce", SEED), start_crm("hubspot", SEED)
    try:
        journey("connect", "salesforce", "--name", "sf", "--instance-url", sf.info["instance_url"],
                "--access-token", sf.info["access_token"], "--ca-file", sf.info["ca_file"], env=env)
        journey("connect", "hubspot", "--name", "hs", "--base-url", hs.info["base_url"],
                "--access-token", hs.info["access_token"], env=env)
        map_file = tmp_path / "map.yaml"
        map_file.write_text(default_map_text() + "people: {stage: furthest}\n")
        assert "workspace: map version 1 saved" in journey(
            "map", "apply", "--workspace", str(map_file), "--comment", "one map", env=env).stdout
        shown = journey("map", "show", "--workspace", env=env).stdout
        assert shown.startswith("# workspace: workspace map version 1") and "people:" in shown
        assert "# hs: workspace map version 1" in journey("map", "show", "hs", env=env).stdout
        usage = journey("map", "apply", "hs", env=env, check=False)
        assert usage.returncode == 2 and "--workspace FILE" in usage.stderr
        for name in ("sf", "hs"):
            journey("provision", name, env=env)
            journey("sync", name, env=env)

        person = json.loads(journey("people", "show", "LI.Wei@ACME.example", env=env).stdout)
        assert {"email", "stage", "stage_entered_at", "persona", "next_best_action", "stalled",
                "records", "timeline"} <= set(person)
        assert person["stage"] == "purchase"
        assert {(r["crm"], r["object"], r["id"], r["stage"]) for r in person["records"]} == {
            ("salesforce", "contact", LI_CONTACT, "purchase"), ("hubspot", "contact", "151", "awareness")}
        missing = journey("people", "show", "nobody@example.com", env=env, check=False)
        assert missing.returncode == 1 and "no person" in missing.stderr

        deals = json.loads(journey("analytics", "funnel", "--unit", "deals", env=env).stdout)
        assert (deals["unit"], deals["total"]) == ("deals", 2)
        assert {"key", "reached", "current"} <= set(deals["stages"][0])
        people = json.loads(journey("analytics", "funnel", env=env).stdout)
        assert (people["unit"], people["total"]) == ("people", 4)
        only_hs = json.loads(journey("analytics", "funnel", "--connection", "hs", env=env).stdout)
        assert only_hs["total"] == 3

        # the API's period and filters, checked as the API checks them
        def funnel(*options):
            return json.loads(journey("analytics", "funnel", *options, env=env).stdout)
        assert funnel("--from", "2000-01-01", "--to", "2999-12-31")["stages"] == people["stages"]
        future = funnel("--from", "2999-01-01")
        assert future["total"] == 4 and not any(s["reached"] or s["current"] for s in future["stages"])
        assert funnel("--crm", "hubspot")["total"] == 3
        assert funnel("--country", "Nowhere")["total"] == 0
        for options, words in (
                (("--from", "01/02/2026"), ("--from", "must be a date as YYYY-MM-DD, not '01/02/2026'")),
                (("--from", "2026-02-01", "--to", "2026-01-01"), ("--from", "is after to (2026-01-01)")),
                (("--stalled", "maybe"), ("--stalled", "must be true or false")),
                (("--crm", "pipedrive"), ("--crm", "one of")),
                (("--owner-name", "x" * 201), ("--owner-name", "at most 200 characters"))):
            refused = journey("analytics", "funnel", *options, env=env, check=False)
            assert refused.returncode == 2 and "Traceback" not in refused.stderr
            assert all(word in refused.stderr for word in words), refused.stderr
    finally:
        sf.stop()
        hs.stop()
