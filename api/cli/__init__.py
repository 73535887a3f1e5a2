"""The ``volmatch`` command: demo, load, export, recommend, allocate, train, model, evaluate,
import, user, serve, bench, backup and restore (``volmatch --help`` lists them with what each
does).

Every command takes ``--db URL`` (default: ``VOLMATCH_DATABASE_URL``, else the embedded SQLite
file ``var/volmatch.db``). Tables for people, ``--json`` for machines; errors go to stderr with
exit status 2 and say which record and field to fix.
"""

# The modules register their commands as they are imported: this order is the order of --help.
from api.cli.common import app  # noqa: I001
from api.cli import records, recommend, plans, learning, data, server

COMMANDS = (records, recommend, plans, learning, data, server)
"""The command modules: each registers its commands on ``app`` when imported. Shared options,
consoles and helpers are in :mod:`api.cli.common`; the work is in :mod:`api.usecases`."""

__all__ = ["COMMANDS", "app", "main"]


def main() -> None:
    app()
