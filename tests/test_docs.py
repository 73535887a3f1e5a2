"""The numbers ARCHITECTURE.md quotes are the code's (docs drift silently otherwise)."""

from __future__ import annotations

import re
from pathlib import Path

from api.live.caches import ACCOUNT_TTL_S
from matcher.matching.blocks import DEFAULT_BLOCK_KM

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_the_block_size_quoted_is_the_default() -> None:
    quoted = re.search(r"Blocks are ~(\d+(?:\.\d+)?) km", ARCHITECTURE)
    assert quoted is not None and float(quoted.group(1)) == DEFAULT_BLOCK_KM


def test_the_account_cache_time_quoted_is_the_code_s() -> None:
    assert "`Accounts.get`: kept an hour, `ACCOUNT_TTL_S`" in ARCHITECTURE
    assert ACCOUNT_TTL_S == 3600


def test_every_file_the_docs_cite_exists() -> None:
    for doc in ("ARCHITECTURE.md", "README.md", "CONTRIBUTING.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        cited = set(
            re.findall(
                r"`((?:matcher|api|tests|scripts|notebooks|data|docs)/[\w./-]+\.(?:py|md|sql|geojson|csv|ipynb))`",
                text,
            )
        )
        missing = sorted(c for c in cited if not (ROOT / c).exists())
        assert missing == [], f"{doc} cites files that are not in the repository"
