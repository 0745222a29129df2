"""Operator commands: flask --app wsgi skm ..."""
from __future__ import annotations

import click

from skm.cli import data, online, periods, setup, worker


@click.group("skm")
def skm_cli():
    """Perintah operator SKM Kiosk."""
    from skm.core.database import write_intent

    # CLI commands write while the kiosk may be writing: take the SQLite write lock up front.
    write_intent.set(True)


for _module in (setup, data, periods, online, worker):
    for _command in vars(_module).values():
        if isinstance(_command, click.Command):
            skm_cli.add_command(_command)
