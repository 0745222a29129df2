"""The dependency audit (.ci/audit.py): its rule per locked package, and that a network
failure or a pip-audit that checked nothing never counts as a passed audit."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ci_audit"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _files(days_ago: int, requires: str | None = ">=3.9", yanked: bool = False) -> list[dict]:
    at = (NOW - dt.timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")
    return [{"upload_time_iso_8601": at, "requires_python": requires, "yanked": yanked}]


def _project(latest: str, releases: dict, vulns=()) -> dict:
    return {"info": {"version": latest}, "releases": releases, "vulnerabilities": list(vulns)}


def test_latest_without_vulnerabilities_passes(audit):
    project = _project("2.0", {"1.0": _files(400), "2.0": _files(100)})
    assert audit.judge("x", "2.0", project, NOW, python=(3, 11, 2)).status == "pass"


def test_a_listed_vulnerability_fails_even_at_the_latest_release(audit):
    vuln = {"id": "PYSEC-2026-1", "aliases": ["CVE-2026-0001"], "fixed_in": ["2.0.1"], "withdrawn": None}
    project = _project("2.0", {"2.0": _files(100)}, [vuln])
    verdict = audit.judge("x", "2.0", project, NOW, python=(3, 11, 2))
    assert verdict.status == "fail" and "CVE-2026-0001" in verdict.reasons[0] and "2.0.1" in verdict.reasons[0]


def test_an_outdated_pin_fails_after_the_grace_period_and_is_noted_within_it(audit):
    old = _project("2.1", {"2.0": _files(100), "2.1": _files(30)})
    assert audit.judge("x", "2.0", old, NOW, grace_days=14, python=(3, 11, 2)).status == "fail"
    fresh = _project("2.1", {"2.0": _files(100), "2.1": _files(3)})
    assert audit.judge("x", "2.0", fresh, NOW, grace_days=14, python=(3, 11, 2)).status == "note"


def test_releases_for_a_newer_python_pre_releases_and_yanked_ones_do_not_count(audit):
    project = _project("3.0", {"2.4": _files(200), "3.0": _files(100, ">=3.12"), "2.5rc1": _files(50),
                               "2.6": _files(40, yanked=True)})
    assert audit.judge("x", "2.4", project, NOW, python=(3, 11, 2)).status == "pass"
    assert audit.judge("x", "2.4", project, NOW, python=(3, 12, 1)).status == "fail"


def test_a_yanked_pin_fails(audit):
    project = _project("2.0", {"2.0": _files(100, yanked=True)})
    assert audit.judge("x", "2.0", project, NOW, python=(3, 11, 2)).status == "fail"


def test_the_lock_is_read_with_markers_and_normalized_names(audit, tmp_path):
    lock = tmp_path / "r.lock"
    lock.write_text("Flask_SQLAlchemy==3.1.1 \\\n    --hash=sha256:abc\ncolorama==0.4.6 ; sys_platform == 'win32' \\\n")
    assert audit.read_lock(str(lock)) == {"flask-sqlalchemy": "3.1.1", "colorama": "0.4.6"}
    pins = audit.read_lock(str(ROOT / "requirements.lock"))
    assert pins["flask"].startswith("3.") and "pytest" in pins and "ruff" in pins  # app, test and lint


def test_an_unreachable_index_fails_with_a_clear_message(audit, tmp_path, monkeypatch, capsys):
    lock = tmp_path / "r.lock"
    lock.write_text("flask==3.1.3\n")
    monkeypatch.setattr(audit, "INDEX", "http://127.0.0.1:9/pypi")
    monkeypatch.setattr(audit, "TIMEOUT", 2)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pip-audit
    assert audit.main([str(lock)]) == 2
    err = capsys.readouterr().err
    assert "FAILED" in err and "could not look up 1 of 1" in err and "127.0.0.1:9/pypi/flask/json" in err


def test_pip_audit_skipping_a_package_leaves_it_to_the_index_check(audit, tmp_path, monkeypatch):
    """pip-audit against this index says 'not found on PyPI' for every package and exits 0."""
    fake = tmp_path / "pip-audit"
    report = {"dependencies": [
        {"name": "flask", "version": "3.1.3", "skip_reason": "Dependency not found on PyPI"},
        {"name": "jinja2", "version": "3.1.6", "vulns": [{"id": "GHSA-xxxx"}]},
    ]}
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(report)}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    assert audit.run_pip_audit("requirements.lock") == {"jinja2": ["GHSA-xxxx"]}
