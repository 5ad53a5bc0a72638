"""``journey classify``: classify every record of a seed file against a map, one JSON line each."""
from __future__ import annotations

import click

from connectors import registry
from connectors.seedfile import SeedError, load_seed_file
from integration.cli.common import echo_json, parse_as_of
from integration.cli.map_commands import load_map_or_exit
from integration.sandboxes import make_sandbox, sandbox_settings
from integration.store.types import utcnow
from mapping import classify


@click.command("classify")
@click.option("--map", "map_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--seed", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A sandbox seed file; its records are read through the real connectors.")
@click.option("--as-of", help="Classify at this ISO-8601 instant instead of now.")
def classify_cmd(map_file: str, seed: str, as_of: str | None) -> None:
    """Print each seed record's journey stage, persona, next best action and stall verdict."""
    jmap = load_map_or_exit(map_file)
    now = parse_as_of(as_of) or utcnow()
    try:
        crms = [crm for crm in load_seed_file(seed) if crm in registry.names()]
        sandboxes = [(crm, make_sandbox(crm, seed)) for crm in crms]
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    for crm, sandbox in sandboxes:
        with sandbox:
            connector = registry.spec(crm).factory(sandbox_settings(crm, sandbox.info()), None)
            for record in connector.pull(None):
                state = classify(record, jmap, now)
                echo_json({"crm": crm, "object": record.object, "id": record.id,
                           "crm_stage": state.crm_stage, "stage": state.stage,
                           "stage_entered_at": state.entered_at,
                           "days_in_stage": state.days_in_stage,
                           "expected_days": state.expected_days, "stalled": state.stalled,
                           "persona": state.persona, "next_best_action": state.next_best_action})
