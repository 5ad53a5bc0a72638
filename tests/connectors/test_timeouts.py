"""Every CRM call has a connect and read timeout: against a CRM that accepts the TCP connection and
never answers, each connector's data calls and OAuth token calls give up with a TransientError."""
from __future__ import annotations

import socket
import threading

import pytest

from connectors.base import CrmError, TransientError
from connectors.hubspot import oauth as hs_oauth
from connectors.hubspot.connector import HubSpotConnector
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.oauth import refresh_access_token, timed_session
from integration.config import Settings

QUICK = {"connect_timeout_seconds": 0.3, "read_timeout_seconds": 0.3}


@pytest.fixture(scope="module")
def hanging():
    """host:port of a server that accepts connections and never sends a byte."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(32)
    held = []

    def accept():
        while True:
            try:
                held.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    for conn in held:
        conn.close()


def gives_up(call):
    """Run ``call`` in a thread; return the exception it ended with (the join is only a bound
    that stops a hung test, not a speed assertion)."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the call never gave up: no timeout"
    return outcome[0]


def test_salesforce_data_and_token_calls_time_out(hanging):
    connector = SalesforceConnector({"instance_url": f"https://{hanging}", "access_token": "t",
                                     "retry_attempts": 1, **QUICK})
    assert isinstance(gives_up(connector.identify), TransientError)
    session = timed_session(None, (0.3, 0.3))
    assert isinstance(gives_up(lambda: refresh_access_token(
        f"https://{hanging}", "client", "secret", "refresh", session)), TransientError)


def test_hubspot_data_and_token_calls_time_out(hanging):
    connector = HubSpotConnector({"base_url": f"http://{hanging}", "access_token": "t", **QUICK},
                                 max_attempts=1)
    assert isinstance(gives_up(connector.identify), TransientError)  # plain requests call
    assert isinstance(gives_up(connector.stages), TransientError)  # hubspot-api-client call
    error = gives_up(lambda: hs_oauth.exchange_code(f"http://{hanging}", "id", "secret", "code",
                                                    "https://back.example", (0.3, 0.3)))
    assert isinstance(error, CrmError)


def test_the_service_hands_its_configured_timeouts_to_every_connector(tmp_path):
    from cryptography.fernet import Fernet

    from integration.services import build_services

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'j.sqlite3'}",
                        secret_key=Fernet.generate_key().decode(), session_secret="s",
                        crm_connect_timeout_seconds=3.0, crm_read_timeout_seconds=7.0)
    services = build_services(settings)
    hubspot = services.connector_for("hubspot", {"access_token": "t"})
    assert hubspot.session.timeout == (3.0, 7.0)
    salesforce = services.connector_for("salesforce", {"instance_url": "https://x.example",
                                                       "access_token": "t"})
    assert salesforce.client.session.timeout == (3.0, 7.0)
    services.engine.dispose()


def test_timeouts_threads_and_backoff_come_from_the_environment(tmp_path):
    from cryptography.fernet import Fernet

    from integration.config import load_settings

    env = {"JOURNEY_DATA_DIR": str(tmp_path), "JOURNEY_SECRET_KEY": Fernet.generate_key().decode(),
           "JOURNEY_CRM_CONNECT_TIMEOUT": "2.5", "JOURNEY_CRM_READ_TIMEOUT": "20",
           "JOURNEY_WORKER_THREADS": "8", "JOURNEY_RETRY_BASE": "5", "JOURNEY_RETRY_MAX": "600",
           "JOURNEY_SYNC_TIME_LIMIT": "300"}
    settings = load_settings(env)
    assert settings.crm_timeouts == (2.5, 20.0)
    assert (settings.worker_threads, settings.retry_base_seconds, settings.retry_max_seconds,
            settings.sync_time_limit_seconds) == (8, 5.0, 600.0, 300)
    defaults = load_settings({"JOURNEY_DATA_DIR": str(tmp_path)})
    assert defaults.crm_timeouts == (10.0, 60.0) and defaults.retry_max_seconds == 3600
    with pytest.raises(ValueError, match="JOURNEY_CRM_READ_TIMEOUT: must be more than 0"):
        load_settings({**env, "JOURNEY_CRM_READ_TIMEOUT": "0"})
