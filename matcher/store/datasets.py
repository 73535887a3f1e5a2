"""Readers for the public datasets volmatch is evaluated on (files in, pandas frames out).

The datasets are not shipped (see ``../shared/datasets/README.md`` for provenance and licences):
commands take their folder as an argument and say clearly when it is missing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd

from matcher.errors import ValidationError


def scistarter(path: Path) -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, bool]]:
    """SciStarter's joins (``user``, ``item``), each project's topics and its online flag."""
    needed = ("user_project_matrix.csv", "projects_data.csv", "projects_info.csv")
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        raise ValidationError("path", f"{path} is not the SciStarter dataset folder: no {', '.join(missing)}")
    wide = pd.read_csv(path / "user_project_matrix.csv")
    joins = wide.melt(id_vars="user", var_name="item", value_name="joined")
    joins = joins[joins["joined"] > 0][["user", "item"]].astype(str)
    info = pd.read_csv(path / "projects_data.csv")
    topics = {
        str(p): set(ast.literal_eval(t)) if isinstance(t, str) else set()
        for p, t in zip(info["project"], info["topics"], strict=True)
    }
    flags = pd.read_csv(path / "projects_info.csv")
    online = {str(p): bool(o) for p, o in zip(flags["project"], flags["is_online"], strict=True)}
    return joins, topics, online
