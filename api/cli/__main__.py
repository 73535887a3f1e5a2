"""``python -m api.cli``: the ``volmatch`` command."""

from api.cli import main

main()
