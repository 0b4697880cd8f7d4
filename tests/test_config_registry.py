"""One configuration registry (issue 21): every ``TOLLGATE_*`` setting is declared once in
app/config.py with its default, read through it, and listed in the README."""

import re
from pathlib import Path

from app.config import ENVIRONMENT, build_config

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"TOLLGATE_[A-Z0-9_]*[A-Z0-9]_?")
# os.environ / getenv used on a TOLLGATE_ name, or a local alias of os.environ.get
ENV_READ = re.compile(r"(os\.environ|getenv|environ\.get)[^\n]*TOLLGATE_|=\s*os\.environ\.get\b")


def _declared(tmp_path) -> set[str]:
    keys = {k for k in build_config(tmp_path) if k.startswith("TOLLGATE_")}
    return keys | {f"TOLLGATE_{name}" for name in ENVIRONMENT}


def _modules():
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path != ROOT / "app" / "config.py":
            yield path, path.read_text(encoding="utf-8")


def test_the_readme_lists_every_declared_setting(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in _declared(tmp_path) if name not in readme)
    assert missing == [], f"settings missing from README.md's Configuration: {missing}"


def test_every_setting_the_code_names_is_declared_in_config(tmp_path):
    declared = _declared(tmp_path)
    unknown = set()
    for path, text in _modules():
        for name in NAME.findall(text):
            if name.endswith("_"):  # a prefix composed at run time (TOLLGATE_RETENTION_<T>_DAYS)
                if not any(d.startswith(name) for d in declared):
                    unknown.add(f"{path.relative_to(ROOT)}: {name}")
            elif name not in declared:
                unknown.add(f"{path.relative_to(ROOT)}: {name}")
    assert sorted(unknown) == []


def test_no_module_outside_config_reads_tollgate_settings_from_the_environment():
    readers = [
        f"{path.relative_to(ROOT)}:{n}"
        for path, text in _modules()
        for n, line in enumerate(text.splitlines(), 1)
        if ENV_READ.search(line)
    ]
    assert readers == [], "read settings through app.config (build_config or env_setting)"


def test_declared_defaults_apply_when_the_environment_is_silent(monkeypatch, tmp_path):
    for name in ENVIRONMENT:
        monkeypatch.delenv(f"TOLLGATE_{name}", raising=False)
    config = build_config(tmp_path)
    assert config["TOLLGATE_FEED_MAX_BYTES"] == 5 * 1024 * 1024
    assert config["TOLLGATE_TRAIL_RETENTION_DAYS"] == 365
    monkeypatch.setenv("TOLLGATE_FEED_MAX_BYTES", "1024")
    assert build_config(tmp_path)["TOLLGATE_FEED_MAX_BYTES"] == 1024
