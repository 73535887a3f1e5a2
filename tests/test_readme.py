"""Every ``volmatch`` command the README shows runs as written against ``make run``'s city.

The README's command lines are read from its code blocks, in order, and each runs in a
scratch folder on a copy of the demo city (``volmatch demo`` with its defaults). Some are not
run here, each for a reason the test names: ``serve`` runs until stopped (the served tests
start it), ``evaluate`` runs in tests/api/test_cli.py, and the commands on ../shared/datasets
run only where that folder is (CI)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATASETS, demo_city_copy

README = Path(__file__).resolve().parents[1] / "README.md"
NOT_RUN = {
    "serve": "runs until stopped; tests/api/test_workers.py starts it",
    "evaluate": "runs as written, --json added, in tests/api/test_cli.py (a minute of CPU, once is enough)",
}


def readme_commands() -> list[str]:
    """The ``.venv/bin/volmatch ...`` lines of the README's code blocks, comments cut off."""
    lines: list[str] = []
    inside = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if inside and line.startswith(".venv/bin/volmatch "):
            lines.append(re.sub(r"\s+#.*$", "", line).strip())
    return lines


COMMANDS = readme_commands()


def test_the_readme_shows_the_commands_people_need() -> None:
    verbs = {shlex.split(c)[1] for c in COMMANDS}
    assert {"recommend", "allocate", "export", "load", "train", "evaluate", "backup", "restore"} <= verbs
    assert not any("[" in c or "|" in c for c in COMMANDS), "write each command as it is typed"


NEW_STATE = ("train", "import")
"""Verbs that start a run of commands independent of those before it (``export`` then
``load`` and ``backup`` then ``restore`` stay together), so the runs can go in parallel, each
on its own copy of the city."""


def runs() -> list[list[str]]:
    found: list[list[str]] = []
    for command in COMMANDS:
        if not found or shlex.split(command)[1] in NEW_STATE:
            found.append([])
        found[-1].append(command)
    return found


def test_the_runs_cover_every_command_once() -> None:
    assert [c for run in runs() for c in run] == COMMANDS and len(runs()) >= 2


@pytest.mark.parametrize("run", range(len(runs())))
def test_every_readme_command_runs_as_written(run: int, tmp_path: Path, demo_city_file: Path) -> None:
    """In the README's order, in one folder, on a copy of ``make run``'s city."""
    demo_city_copy(demo_city_file, tmp_path / "var", "volmatch.db")
    env = {
        **os.environ,
        "VOLMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'volmatch.db'}",
        "COLUMNS": "100",
    }
    failed, skipped = [], []
    for command in runs()[run]:
        words = shlex.split(command)
        if words[1] in NOT_RUN:
            skipped.append(command)
            continue
        if "../shared/datasets" in command:
            if not DATASETS.is_dir():
                skipped.append(command)
                continue
            words = [w.replace("../shared/datasets", str(DATASETS)) for w in words]
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "api.cli", *words[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        print(f"{time.monotonic() - started:6.1f} s  {command}")
        if done.returncode != 0 or not (done.stdout + done.stderr).strip():
            failed.append((command, done.returncode, done.stderr[-1500:]))
    assert failed == []
    assert {shlex.split(c)[1] for c in skipped if "../shared" not in c} <= set(NOT_RUN)
    if os.environ.get("CI") == "true":
        assert all("../shared" not in c for c in skipped if shlex.split(c)[1] not in NOT_RUN), (
            "CI has ../shared/datasets"
        )
