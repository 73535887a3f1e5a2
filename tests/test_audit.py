"""``make check``'s vulnerability audit tells a real pass from "nothing could be checked"."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dep(name: str, vulns: list[dict[str, object]] | None = None, skipped: bool = False) -> dict[str, object]:
    if skipped:
        return {
            "name": name,
            "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)",
        }
    return {"name": name, "version": "1.0", "vulns": vulns or []}


def test_a_known_vulnerability_fails_and_names_the_fix(audit: ModuleType) -> None:
    vuln = {"id": "GHSA-xxxx", "fix_versions": ["1.2"]}
    code, message = audit.verdict({"dependencies": [dep("jinja2", [vuln]), dep("numpy")]})
    assert code == 1 and "jinja2 1.0: GHSA-xxxx (fixed in: 1.2)" in message and "2 of 2" in message


def test_nothing_audited_is_a_warning_not_a_pass_and_strict_fails(audit: ModuleType) -> None:
    report = {"dependencies": [dep("a", skipped=True), dep("b", skipped=True)]}
    code, message = audit.verdict(report)
    assert code == 0 and "0 of 2" in message and "WARNING: nothing could be checked" in message
    assert "no known vulnerabilities" not in message
    assert audit.verdict(report, strict=True)[0] == 1


def test_a_partial_audit_says_what_was_not_checked(audit: ModuleType) -> None:
    code, message = audit.verdict({"dependencies": [dep("a"), dep("b", skipped=True)]})
    assert code == 0 and "1 of 2" in message and "NOT AUDITED: 1 packages (b)" in message
