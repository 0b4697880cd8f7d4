"""Stand-in vulnerability check for when pip-audit cannot reach its services.

pip-audit asks PyPI's per-release JSON API (``/pypi/NAME/VERSION/json``) or OSV. Where
neither answers (the machines these sessions run on reach only PyPI's project pages),
this asks PyPI's *project* endpoint (``/pypi/NAME/json``), whose ``vulnerabilities`` are
those of the project's latest release. So every installed distribution that is at its
latest release is checked against PyPI's advisories; one that is older cannot be checked
here and is listed by name. Exits 1 on a known vulnerability, 0 otherwise, and says how
much it could check.

Usage: python scripts/audit_latest.py   (run with the virtual environment's Python)
"""

import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PYPI = "https://pypi.org/pypi/{}/json"


def _same(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def check(name: str, version: str) -> tuple[str, str, str, list[str]]:
    """(name, installed, outcome, advisory ids); outcome: latest | older | unknown."""
    try:
        with urllib.request.urlopen(PYPI.format(name), timeout=15) as resp:  # noqa: S310 - https
            project = json.load(resp)
    except (OSError, ValueError):
        return name, version, "unknown", []
    if not _same(project["info"]["version"], version):
        return name, version, f"older: latest is {project['info']['version']}", []
    ids = [v.get("id", "?") for v in project.get("vulnerabilities") or []]
    return name, version, "latest", ids


def main() -> int:
    own = canonicalize_name("tollgate")
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if d.metadata["Name"] and canonicalize_name(d.metadata["Name"]) != own
    }
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda item: check(*item), sorted(installed.items())))
    vulnerable = [r for r in results if r[3]]
    checked = [r for r in results if r[2] == "latest"]
    older = [r for r in results if r[2].startswith("older")]
    unknown = [r for r in results if r[2] == "unknown"]
    for name, version, _, ids in vulnerable:
        print(f"audit: {name} {version}: {', '.join(ids)}")
    if not checked and not older:
        print("audit: NOT AUDITED - PyPI's project pages are not reachable either")
        return 0
    print(
        f"audit (PyPI project pages): {len(checked)} of {len(results)} installed distributions"
        f" are at their latest release, checked: {len(vulnerable)} with a known vulnerability;"
        f" {len(older)} older releases cannot be checked here"
        + (f", {len(unknown)} not found" if unknown else "")
    )
    if older:
        print("  not checked: " + "; ".join(f"{n} {v} ({o})" for n, v, o, _ in older))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
