"""``journey demo``: the whole product on this machine, seeded with a demo book."""
from __future__ import annotations

from pathlib import Path

import click

from integration.cli.common import TerminalProgress, echo_json


@click.command()
@click.option("--port", default=8000, show_default=True)
@click.option("--once", is_flag=True, help="Set up and sync, print a JSON summary, and exit.")
@click.option("--data-dir", default="var/demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo keeps its database (wiped at start).")
def demo(port: int, once: bool, data_dir: str) -> None:
    """Start both sandboxes with a demo book, connect, provision, map, sync, and serve."""
    from integration.demo.run import prepare_demo, serve_demo

    progress = TerminalProgress()
    click.echo("preparing the demo: sandboxes, connections, fields, first sync ...", err=True)
    ready = prepare_demo(Path(data_dir), port, progress=progress)
    progress.close()
    if once:
        ready.stop()
        echo_json(ready.summary)
        return
    for crm, figures in ready.summary.items():
        click.echo(f"{crm}: read {figures['read']}, wrote {figures['written']}, "
                   f"{figures['api_calls']} API calls")
    serve_demo(ready, click.echo)
