"""Schemathesis against /api/v1/openapi.json with many examples per operation (the suite runs a few).

Run: ``.venv/bin/python bench/bench_openapi_fuzz.py [--examples N] [--database-url URL]``. Builds a
throwaway service (SQLite by default) with one tenant and one connection to a HubSpot sandbox (so
calls that reach the CRM get real answers, not a 502 for an unreachable one), then for each
operation runs N positive and N negative examples through the app, checking every answer against
the document. Prints requests made, server errors (5xx; wanted 0) and other failures by check.
"""
from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from integration.app import create_app
from integration.config import Settings
from integration.demo.seed import demo_seed
from integration.sandboxes import make_sandbox, sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.tenancy import get_or_create_tenant, issue_token


def fuzz(app, token: str, examples: int) -> tuple[int, Counter]:
    """(requests made, failures by kind) over every operation, both generation modes."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    counts: Counter = Counter()
    made = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                nonlocal made
                made += 1
                headers = {"Authorization": f"Bearer {token}"}
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    counts[f"5xx {operation.label}"] += 1
                case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - counted and printed, the run goes on
                counts[f"{type(exc).__name__} {operation.label}: {str(exc).splitlines()[0][:100]}"] += 1
    return made, counts


def main(argv: Sequence[str] | None = None) -> None:
    """Fuzz the API of a throwaway service and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and mode")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'fuzz.sqlite3'}"
        upgrade(url)
        service_settings = Settings(data_dir=Path(tmp), database_url=url, secret_key=Fernet.generate_key().decode(),
                                    session_secret="fuzz")
        services = build_services(service_settings)
        with services.session() as session:
            token = issue_token(session, get_or_create_tenant(session, "fuzz").id)
        app = create_app(service_settings, services)
        sandbox = make_sandbox("hubspot", seed=demo_seed(datetime.now(timezone.utc), opportunities=20, leads=5)).start()
        try:
            res = app.test_client().post(
                "/api/v1/connections", headers={"Authorization": f"Bearer {token}"},
                json={"name": "fuzz", "crm": "hubspot", "settings": sandbox_settings("hubspot", sandbox.info())})
            assert res.status_code == 201, res.get_json()
            made, counts = fuzz(app, token, args.examples)
        finally:
            sandbox.stop()
            services.engine.dispose()
    server_errors = sum(n for kind, n in counts.items() if kind.startswith("5xx"))
    print(f"operations fuzzed with {args.examples} positive and {args.examples} negative examples each")
    print(f"requests: {made}")
    print(f"server errors (5xx): {server_errors} (wanted 0)")
    print(f"answers contradicting the document: {sum(counts.values()) - server_errors} (wanted 0)")
    for kind, n in sorted(counts.items()):
        print(f"  {n} x {kind}")


if __name__ == "__main__":
    main()
