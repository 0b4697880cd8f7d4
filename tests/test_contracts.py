"""The project's own rules, checked (issue 21): every signal has a receiver in app/, and the
import contracts of .importlinter hold."""

import subprocess
import sys
import weakref
from pathlib import Path

import blinker

from app.core import signals

ROOT = Path(__file__).resolve().parent.parent


def _declared():
    return {
        name: value
        for name, value in vars(signals).items()
        if isinstance(value, blinker.base.NamedSignal)
    }


def _app_receivers(signal) -> list[str]:
    """Where each receiver connected by the application lives (tests' own are left out)."""
    out = []
    for ref in signal.receivers.values():
        fn = ref() if isinstance(ref, weakref.ref) else ref
        module = getattr(fn, "__module__", "") or ""
        if module.startswith("app."):
            out.append(f"{module}.{getattr(fn, '__name__', fn)}")
    return out


def test_every_declared_signal_has_a_receiver_after_create_app(app):
    declared = _declared()
    assert declared, "no signals found in app.core.signals"
    unheard = sorted(name for name, signal in declared.items() if not _app_receivers(signal))
    assert unheard == [], (
        f"signals nobody in app/ receives: {unheard}; connect a receiver or delete the signal "
        "(docs/DEVELOPING.md, Cross-domain)"
    )


def test_every_declared_signal_is_sent_somewhere():
    """A signal nobody sends is as dishonest as one nobody receives."""
    lines = [
        line
        for path in (ROOT / "app").rglob("*.py")
        if path.name != "signals.py" or path.parent.name != "core"
        for line in path.read_text(encoding="utf-8").splitlines()
        if "connect(" not in line
    ]
    unsent = sorted(
        name for name in _declared() if not any(f"signals.{name}" in line for line in lines)
    )
    assert unsent == []


def test_import_contracts_are_kept():
    """`make lint` runs the same check; here it fails a test run too (import-linter is a
    pinned dev dependency, so it is never skipped)."""
    exe = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:]


def test_every_domain_is_under_the_import_contracts():
    """A domain added to app.DOMAINS but not to .importlinter would go unchecked."""
    import configparser

    from app import DOMAINS

    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    core = {"app.core", "app.security", "app.jobs", "app.search"}
    listed = set(config["importlinter:contract:core-knows-no-domain"]["forbidden_modules"].split())
    layered = set(config["importlinter:contract:domain-layers"]["containers"].split())
    domains = set(DOMAINS) - core
    assert domains - listed == set() and domains - layered == set()


def test_the_contracts_keep_the_domains_acyclic_and_operations_domain_free():
    """Issue 21: the cycle intel -> alerts -> cases -> intel was broken through
    app.core.records, and operations stopped importing each domain's retention module; these
    two contracts keep it so (test_import_contracts_are_kept runs them)."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    acyclic = config["importlinter:contract:domains-acyclic"]
    assert acyclic["type"] == "acyclic_siblings" and acyclic["ancestors"].split() == ["app"]
    ops = config["importlinter:contract:ops-knows-no-domain"]
    assert ops["source_modules"].split() == ["app.ops"]
    assert {"app.cases", "app.intel", "app.risk", "app.textmining"} <= set(
        ops["forbidden_modules"].split()
    )


def test_every_retention_source_is_declared_once_with_its_period_setting(app):
    """One retention mechanism (app.core.retention): each domain's sources name the setting of
    their review period, whose one default is app/config.py's (no second default in the
    source), and the administrator page says the configured period."""
    from app.config import ENVIRONMENT
    from app.core.retention import retention_sources, setting_name

    sources = retention_sources(app)
    by_type = {s.record_type: s for s in sources}
    assert {"case", "report", "entity", "declaration", "article", "access_event"} <= set(by_type)
    assert sources[0].record_type == "access_event"  # the trail first, then by order
    for source in sources:
        if source.record_type == "access_event":
            continue
        assert source.setting, f"{source.record_type}: no period setting"
        assert f"RETENTION_{source.setting}_DAYS" in ENVIRONMENT
        name = setting_name(source.setting)
        assert source.policy.startswith(f"Reviewed {app.config[name]} days {source.starts} ")
