"""Clients for talking to a sandbox the way real code does (TLS verified against its CA)."""
from __future__ import annotations

import requests
from simple_salesforce import Salesforce

from connectors.salesforce.sandbox import SalesforceSandbox


def http(sandbox: SalesforceSandbox) -> requests.Session:
    """A requests session trusting only the sandbox's CA."""
    session = requests.Session()
    session.trust_env = False
    session.verify = sandbox.info()["ca_file"]
    return session


def simple_sf(sandbox: SalesforceSandbox, token: str | None = None, version: str = "59.0") -> Salesforce:
    """simple-salesforce pointed at the sandbox with its initial (or the given) access token."""
    info = sandbox.info()
    return Salesforce(instance_url=info["instance_url"], session_id=token or info["access_token"],
                      session=http(sandbox), version=version)


def api(sandbox: SalesforceSandbox, path: str, version: str = "59.0") -> str:
    """The full URL of a data API path."""
    return f"{sandbox.instance_url}/services/data/v{version}/{path}"


def bearer(sandbox: SalesforceSandbox) -> dict[str, str]:
    """Authorization header with the sandbox's initial access token."""
    return {"Authorization": f"Bearer {sandbox.info()['access_token']}"}
