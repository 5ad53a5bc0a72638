"""The ``journey`` command. Every subcommand has ``--help``; long work shows progress on a terminal."""
from __future__ import annotations

import click

from integration.cli import (connections, db, demo, map_commands, people_commands, queue, records,
                             sandbox, serve, sync)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Journey Sync: place CRM records on one customer-journey map and write it back."""


for module in (db, map_commands, people_commands, records, sandbox, connections, sync, serve, queue,
               demo):
    module.register(main)
