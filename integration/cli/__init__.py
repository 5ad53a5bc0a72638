"""The ``journey`` command. Every subcommand has ``--help``; long work shows progress on a terminal."""
from __future__ import annotations

from importlib import import_module

import click

#: Each command and the module (under ``integration.cli``) and attribute that define it. A module
#: is imported only when one of its commands runs, so a process loads the parts of the service its
#: command needs and no others (``journey map validate`` loads no database, ``journey status`` no
#: sync engine or web app).
COMMANDS = {
    "analytics": "people_commands:analytics_group",
    "classify": "records:classify_cmd",
    "connect": "connections:connect_group",
    "connection": "connections:connection_group",
    "db": "db:db",
    "demo": "demo:demo",
    "map": "map_commands:map_group",
    "people": "people_commands:people_group",
    "provision": "connections:provision_cmd",
    "sandbox": "sandbox:sandbox",
    "scheduler": "queue:scheduler",
    "serve": "serve:serve",
    "status": "connections:status_cmd",
    "sync": "sync:sync_cmd",
    "token": "connections:token_group",
    "worker": "serve:worker",
}


class _Commands(click.Group):
    """The top-level group, loading a command's module on first use (see :data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        return getattr(import_module(f"integration.cli.{module}"), attribute)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Journey Sync: place CRM records on one customer-journey map and write it back."""
