"""The sandboxes against clients nobody here wrote: jsforce and the Node @hubspot/api-client.

Each test starts a sandbox, runs a Node script of this folder against it and checks what the
client saw. They skip with the reason when node or the npm packages are missing (``npm ci`` in
this folder), unless JOURNEY_REQUIRE_NODE=1 (CI) makes them mandatory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any


from tests.fixtures_salesforce import OPP_ACME, OPP_GLOBEX, OPP_WON, sf_seed
from tests.support import require_or_skip

HERE = Path(__file__).parent
PACKAGES = ("jsforce", "@hubspot/api-client")
#: One SOQL page is 2,000 rows: enough opportunities for a second page.
EXTRA_OPPORTUNITIES = 2_050


def run_node(script: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``script`` of this folder with ``env`` added; its stdout is one JSON object."""
    node = shutil.which("node")
    if node is None:
        require_or_skip("node", "node is not installed (apt-get install nodejs npm)")
    missing = [p for p in PACKAGES if not (HERE / "node_modules" / p / "package.json").exists()]
    if missing:
        require_or_skip("node", f"npm packages missing ({', '.join(missing)}): run `npm ci` in {HERE}")
    result = subprocess.run([node, str(HERE / script)], cwd=HERE, capture_output=True, text=True,
                            timeout=120, env={**os.environ, **env})
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


def test_jsforce_reads_pages_describes_updates_and_queries_tooling(make_sf_sandbox):
    seed = sf_seed()
    seed["opportunities"] += [{"Name": f"Bulk {n:04d}", "StageName": "Prospecting", "CloseDate": "2027-01-01",
                               "CreatedDate": "2026-01-01T00:00:00Z"} for n in range(EXTRA_OPPORTUNITIES)]
    sandbox = make_sf_sandbox(seed)
    info = sandbox.info()
    ids = [OPP_WON, OPP_ACME, OPP_GLOBEX]
    seen = run_node("salesforce.mjs", {
        "SF_INSTANCE_URL": info["instance_url"], "SF_ACCESS_TOKEN": info["access_token"],
        "SF_VERSION": "68.0", "SF_OPPORTUNITY_IDS": ",".join(ids), "NODE_EXTRA_CA_CERTS": info["ca_file"]})
    total = EXTRA_OPPORTUNITIES + len(ids)
    assert seen["query"] == {"totalSize": total, "done": False, "size": 2000, "nextRecordsUrl": True}
    assert seen["queryMore"] == {"size": total - 2000, "done": True}
    assert seen["subquery"][-1] == "Closed Won" and len(seen["subquery"]) >= 2
    assert seen["describe"] == {"name": "Opportunity", "stage": True, "history": True}
    assert seen["update"] == [{"id": i, "success": True} for i in ids]
    assert seen["readBack"] == "Renamed by jsforce 0"
    assert seen["tooling"]["totalSize"] >= 0


def test_hubspot_api_client_lists_reads_searches_updates_and_sees_207_and_429(make_hs_sandbox):
    sandbox = make_hs_sandbox()
    info = sandbox.info()
    ids = ["18462730011", "18462730012"]
    seen = run_node("hubspot.mjs", {"HS_BASE_URL": info["base_url"], "HS_TOKEN": info["private_app_token"],
                                    "HS_DEAL_IDS": ",".join(ids)})
    assert seen["list"] == {"size": 2, "after": True, "next": 1, "distinct": True}  # 3 deals
    assert seen["read"]["id"] == ids[0] and seen["read"]["history"] >= 1
    assert seen["search"]["size"] == 3 and seen["search"]["total"] >= 3
    assert seen["properties"] == {"dealstage": True}
    assert seen["batchUpdate"] == {"status": "COMPLETE", "size": 2}
    assert seen["partial"] == {"size": 1, "numErrors": 1,
                               "errors": [{"category": "OBJECT_NOT_FOUND", "ids": ["999999999"]}]}
    assert seen["limited"]["code"] == 429 and seen["limited"]["category"] == "RATE_LIMITS"
    assert seen["limited"]["statuses"][-1] == 429
