"""volmatch installs as a wheel (``pip install .``, not editable) and works from outside the
checkout: its data files travel as package data.

The wheel goes into a new virtualenv without its dependencies, which it takes from this
project's own virtualenv by a plain path line (a ``.pth`` path line adds the folder, and does
not run the folder's own ``.pth`` files, so this checkout's editable install stays out); the
commands then run in an empty folder, so nothing can come from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def test_the_wheel_works_from_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        wheels,
        ROOT,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("volmatch-*.whl")
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    (site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=tmp_path)
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VOLMATCH_DATABASE_URL")}
    where = run(
        python, "-c", "import matcher.store.base as b; print(b.__file__, b.data_dir())", cwd=away, env=env
    )
    assert str(site) in where.stdout and str(ROOT) not in where.stdout, where.stdout
    volmatch = target / "bin" / "volmatch"
    db = f"sqlite:///{away / 'city.db'}"
    run(volmatch, "demo", "--volunteers", "2000", "--activities", "150", "--records", "2000", "--outcomes", "0",
        "--db", db, cwd=away, env=env)  # fmt: skip
    found = run(volmatch, "recommend", "activities", "--volunteer", "v0000001", "--json",
                "--now", "2026-12-01T09:00:00+08:00", "--db", db, cwd=away, env=env)  # fmt: skip
    assert '"matches"' in found.stdout and '"id"' in found.stdout, found.stdout[:500]
