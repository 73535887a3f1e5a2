"""Known vulnerabilities in what volmatch pins (``constraints.txt``), by pip-audit; run by
``make check``.

pip-audit asks PyPI's JSON API (or OSV) about each pinned version. Where neither can be asked
about a package, pip-audit skips it and still says "No known vulnerabilities found", so a
silent pass can mean nothing was checked. This script says how many packages were really
audited:

- a known vulnerability in any pinned package fails (exit 1), naming package, version, the
  advisory and the versions that fix it;
- packages that could not be audited are counted and named, with pip-audit's reason; when none
  could be audited the result is a loud warning, not a pass. ``VOLMATCH_AUDIT=strict`` makes
  that an error too (for a machine that can reach pypi.org or OSV).

Usage: ``python scripts/audit.py [constraints.txt]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def verdict(report: dict[str, Any], strict: bool = False) -> tuple[int, str]:
    """The exit code and the message for a pip-audit JSON report."""
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if "skip_reason" in d]
    audited = [d for d in deps if "skip_reason" not in d]
    found = [(d, v) for d in audited for v in d.get("vulns", [])]
    lines = [f"pip-audit: {len(audited)} of {len(deps)} pinned packages audited"]
    if found:
        lines.append(f"{len(found)} known vulnerabilities:")
        for d, v in found:
            fixed = ", ".join(v.get("fix_versions", [])) or "no fixed version yet"
            lines.append(f"  {d['name']} {d.get('version', '')}: {v.get('id', '?')} (fixed in: {fixed})")
    if skipped:
        reasons = sorted({str(d["skip_reason"]).split(":")[0] for d in skipped})
        names = ", ".join(d["name"] for d in skipped[:8]) + (" ..." if len(skipped) > 8 else "")
        lines.append(f"NOT AUDITED: {len(skipped)} packages ({names}); pip-audit says: {'; '.join(reasons)}")
    if found:
        return 1, "\n".join(lines)
    if not audited:
        lines.append(
            "WARNING: nothing could be checked for known vulnerabilities here (no vulnerability "
            "service knows these versions, or none could be reached). Run `make check` where "
            "pypi.org or api.osv.dev answers; VOLMATCH_AUDIT=strict makes this an error."
        )
        return (1 if strict else 0), "\n".join(lines)
    lines.append("no known vulnerabilities in the packages audited")
    return 0, "\n".join(lines)


def main() -> int:
    constraints = Path(sys.argv[1] if len(sys.argv) > 1 else "constraints.txt")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        run = subprocess.run(
            [
                sys.executable, "-m", "pip_audit", "--requirement", str(constraints), "--no-deps",
                "--disable-pip", "--format", "json", "--progress-spinner", "off", "--timeout", "10",
                "--output", str(out),
            ],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if not out.exists():
            print(f"pip-audit did not run:\n{run.stderr[-2000:]}", file=sys.stderr)
            return 1
        report = json.loads(out.read_text())
    code, message = verdict(report, strict=os.environ.get("VOLMATCH_AUDIT") == "strict")
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
