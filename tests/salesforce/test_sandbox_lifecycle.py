"""Starting, describing and stopping a sandbox."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from connectors.salesforce.sandbox import SalesforceSandbox
from tests.fixtures_salesforce import sf_seed
from tests.salesforce.helpers import simple_sf


def test_options_are_checked_and_info_needs_a_running_server():
    with pytest.raises(TypeError) as unknown:
        SalesforceSandbox(None, daily_quote=5)
    assert "unknown SalesforceSandbox option(s): daily_quote" in str(unknown.value)
    sandbox = SalesforceSandbox(sf_seed())
    with pytest.raises(RuntimeError):
        sandbox.info()
    assert "stopped" in repr(sandbox)


def test_a_started_sandbox_serves_tls_with_its_own_ca_and_cleans_up():
    with SalesforceSandbox(sf_seed(), port=0) as sandbox:
        info = sandbox.info()
        assert set(info) >= {"instance_url", "access_token", "refresh_token", "ca_file", "org_id", "login_url",
                              "client_id", "client_secret"}
        assert info["instance_url"].startswith("https://127.0.0.1:") and info["org_id"] == "00D5g000004ExAmEAC"
        assert info["access_token"] not in repr(sandbox) and info["client_secret"] not in repr(sandbox)
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(info["instance_url"] + "/services/data/", timeout=5)
        assert simple_sf(sandbox).query("SELECT Id FROM Account")["totalSize"] == 2
        ca_file = Path(info["ca_file"])
        assert ca_file.exists()
    assert not ca_file.exists()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(info["instance_url"] + "/services/data/", verify=False, timeout=2)
