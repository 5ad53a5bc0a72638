"""``SalesforceSandbox``: the org, its HTTP app and a TLS server running in a background thread."""
from __future__ import annotations

import secrets
import shutil
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.salesforce.sandbox.app import create_app
from connectors.salesforce.sandbox.bulk import BulkJobs
from connectors.salesforce.sandbox.faults import Faults
from connectors.salesforce.sandbox.http_common import Sandbox
from connectors.salesforce.sandbox.oauth import TokenAuthority
from connectors.salesforce.sandbox.org import INTEGRATION_USERNAME, Org
from connectors.salesforce.sandbox.outbound import OutboundSender
from connectors.salesforce.sandbox.query import QueryEngine

_OPTIONS = {"daily_quota": 100_000, "latency_ms": 0.0, "token_ttl_seconds": 7200.0, "error_503_share": 0.0,
            "child_batch_size": 200, "client_id": None, "client_secret": None, "random_seed": None,
            "outbound_retry_seconds": 0.5, "bulk_delay_ms": 0.0}


class _QuietHandler(WSGIRequestHandler):
    """Request handler that keeps the test output clean (counters are under /__sandbox__/)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class SalesforceSandbox:
    """A local Salesforce org speaking the REST, Tooling and OAuth wire protocols over HTTPS.

    ``seed`` is the value of a seed file's ``salesforce`` key (validated; bad seeds raise
    ``connectors.seedfile.SeedError`` listing every problem). Options: ``daily_quota``,
    ``latency_ms``, ``token_ttl_seconds``, ``error_503_share``, ``child_batch_size``, ``client_id``,
    ``client_secret``, ``random_seed`` (for the 503 draw), ``outbound_retry_seconds``, ``bulk_delay_ms``
    (how long a Bulk API 2.0 job waits queued before it runs).
    """

    def __init__(self, seed: dict[str, Any] | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 **options: Any) -> None:
        unknown = sorted(set(options) - _OPTIONS.keys())
        if unknown:
            raise TypeError(f"unknown SalesforceSandbox option(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(_OPTIONS))}")
        opts = {**_OPTIONS, **options}
        self.host = host
        self.port = port
        self.org = Org(seed)
        self.faults = Faults(latency_ms=float(opts["latency_ms"]), error_503_share=float(opts["error_503_share"]),
                             daily_quota=int(opts["daily_quota"]), random_seed=opts["random_seed"])
        self.engine = QueryEngine(self.org, child_batch_size=int(opts["child_batch_size"]))
        self.bulk = BulkJobs(self.org, self.engine, lambda: self._tmpdir or tempfile.gettempdir(),
                             delay_ms=float(opts["bulk_delay_ms"]))
        self._jwt_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = self._jwt_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        self._client_secret = opts["client_secret"] or secrets.token_hex(32).upper()
        self.tokens = TokenAuthority(
            org_id=self.org.org_id, user_id=self.org.user_id, username=INTEGRATION_USERNAME,
            client_id=opts["client_id"] or "3MVG9" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "B"),
            client_secret=self._client_secret,
            ttl_seconds=float(opts["token_ttl_seconds"]), jwt_public_key=public_pem)
        self.outbound = OutboundSender(org_id=self.org.org_id, instance_url=lambda: self.instance_url,
                                       stage_of=lambda i: self.org.records["Opportunity"][i]["StageName"],
                                       retry_seconds=float(opts["outbound_retry_seconds"]))
        self.org.stage_listeners.append(self.outbound.notify)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        self._initial: dict[str, Any] = {}

    # --------------------------------------------------------------------------- lifecycle
    def start(self) -> "SalesforceSandbox":
        """Serve HTTPS in a background thread (port 0 picks a free port); returns self."""
        if self._server is not None:
            return self
        self._tmpdir = tempfile.mkdtemp(prefix="sf-sandbox-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1", self.host)
        ca_file = Path(self._tmpdir) / "sandbox-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        key_file = Path(self._tmpdir) / "jwt-private-key.pem"
        key_file.write_bytes(self._jwt_key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
        key_file.chmod(0o600)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        app = create_app(Sandbox(org=self.org, engine=self.engine, tokens=self.tokens, faults=self.faults,
                                 outbound=self.outbound, bulk=self.bulk, urls=self._urls), self.info)
        self._server = make_server(self.host, self.port, app, threaded=True, ssl_context=context,
                                   request_handler=_QuietHandler)
        self.port = self._server.port
        self._ca_file = str(ca_file)
        self._jwt_key_file = str(key_file)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sf-sandbox", daemon=True)
        self._thread.start()
        self._initial = self.tokens.issue(login_url=self.login_url, instance_url=self.instance_url,
                                          with_refresh=True)
        return self

    def stop(self) -> None:
        """Stop serving and remove the CA and key files."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.outbound.stop()
        self._server = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> "SalesforceSandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"serving {self.instance_url}" if self._server else "stopped"
        return f"<SalesforceSandbox org={self.org.org_id} {state}>"

    # -------------------------------------------------------------------------------- info
    @property
    def instance_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def url(self) -> str:
        """Where the API and the ``/__sandbox__/`` controls are served."""
        return self.instance_url

    @property
    def login_url(self) -> str:
        return self.instance_url

    def _urls(self) -> dict[str, str]:
        return {"instance_url": self.instance_url, "login_url": self.login_url}

    def info(self) -> dict[str, Any]:
        """How to connect: instance and login URLs, a session, the CA file and the OAuth client."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started; call start() first")
        return {"instance_url": self.instance_url, "access_token": self._initial["access_token"],
                "refresh_token": self._initial["refresh_token"], "ca_file": self._ca_file,
                "org_id": self.org.org_id, "account_id": self.org.org_id, "user_id": self.org.user_id, "username": INTEGRATION_USERNAME,
                "login_url": self.login_url, "client_id": self.tokens.client_id,
                "client_secret": self._client_secret, "jwt_private_key_file": self._jwt_key_file,
                "oauth_app": {"client_id": self.tokens.client_id, "client_secret": self._client_secret,
                              "login_url": self.login_url, "ca_file": self._ca_file}}
