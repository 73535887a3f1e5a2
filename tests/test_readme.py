"""Every ``volmatch`` command the README shows runs as written against ``make run``'s city.

The README's command lines are read from its code blocks, in order, and each runs in a
scratch folder on a copy of the demo city (``volmatch demo`` with its defaults). Two kinds are
not run here, each for a reason the test names: ``serve`` runs until stopped (the served tests
start it), and the commands on ../shared/datasets run only where that folder is (CI)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import DATASETS

README = Path(__file__).resolve().parents[1] / "README.md"
NOT_RUN = {"serve": "runs until stopped; tests/api/test_workers.py starts it"}


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


def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    """In the README's order, in one folder (``export`` then ``load``, ``backup`` then ``restore``)."""
    (tmp_path / "var").mkdir()
    env = {
        **os.environ,
        "VOLMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'volmatch.db'}",
        "COLUMNS": "100",
    }
    built = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    failed, skipped = [], []
    for command in COMMANDS:
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
    assert [shlex.split(c)[1] for c in skipped if "../shared" not in c] == ["serve"]
    if os.environ.get("CI") == "true":
        assert all("../shared" not in c for c in skipped), "CI has ../shared/datasets"
