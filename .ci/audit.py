#!/usr/bin/env python3
"""Dependency audit of requirements.lock (standard library only; `make audit`, CI after lint).

pip-audit is used first when it is installed and its services answer. On these machines they
do not: the index answers only its project JSON API (<index>/pypi/<name>/json),
not the per-version one pip-audit asks (it then skips every package and still exits 0), and
OSV is unreachable. So each locked package is also checked against the project JSON, whose
"vulnerabilities" lists the known vulnerabilities of the *latest* release.

The rule, per locked package (name==version):
  ("latest" = the newest final release whose files accept this Python, e.g. numpy 2.5 needs
  Python 3.12, so numpy 2.4.x is the latest for Python 3.11.)
  pass  the locked version is the latest release and no vulnerability is listed;
  fail  a vulnerability is listed (it affects the latest release, so an older one cannot be
        shown to be safe), the locked version was yanked, or it is not the latest release
        and a newer one has been out for more than AUDIT_GRACE_DAYS (default 14): this API
        tells nothing about older versions, so an outdated pin is an unknown risk. Fix with
        `make lock UPGRADE=--upgrade` (or a --upgrade-package) and run the tests.
  note  not the latest release, but every newer release is younger than the grace period
        (printed, does not fail: the lock is refreshed within those days).
A package pip-audit checked successfully is judged by pip-audit alone (any finding fails).
Any network failure fails the run with a message saying so: an audit that could not look is
not a passed audit.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


def _pip_default_index() -> str:
    """The JSON API of pip's own default index (pip's constant: no host is written here)."""
    from pip._internal.models.index import PyPI

    return PyPI.pypi_url


INDEX = (os.environ.get("AUDIT_INDEX_URL") or _pip_default_index()).rstrip("/")
GRACE_DAYS = int(os.environ.get("AUDIT_GRACE_DAYS", "14"))
TIMEOUT = float(os.environ.get("AUDIT_TIMEOUT", "15"))
WORKERS = 16
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


class NetworkError(Exception):
    pass


@dataclass
class Verdict:
    name: str
    version: str
    status: str  # pass, note, fail
    reasons: list[str] = field(default_factory=list)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            match = PIN.match(line.strip())
            if match:
                pins[normalize(match.group(1))] = match.group(2)
    return pins


def fetch_project(name: str) -> dict:
    url = f"{INDEX}/{name}/json"
    last: Exception | None = None
    for _attempt in range(2):
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NetworkError(f"{url}: the index does not know this package (HTTP 404)") from None
            last = exc
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            last = exc
    raise NetworkError(f"{url}: {getattr(last, 'reason', None) or last}")


def _version_key(version: str) -> tuple:
    parts = []
    for piece in re.split(r"[.+-]", version):
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return tuple(parts)


def _uploaded(files: list[dict]) -> dt.datetime | None:
    times = [f.get("upload_time_iso_8601") for f in files if f.get("upload_time_iso_8601")]
    if not times:
        return None
    return min(dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times)


def judge(name: str, version: str, project: dict, now: dt.datetime, grace_days: int = GRACE_DAYS,
          python: tuple[int, ...] = tuple(sys.version_info[:3])) -> Verdict:
    """The rule in the module docstring, for one package and its project JSON."""
    releases = project.get("releases") or {}
    newer = [v for v, fs in releases.items() if _is_final(v) and _is_newer(v, version) and _usable(fs, python)]
    latest = max(newer, key=_version_key) if newer else version
    verdict = Verdict(name, version, "pass")
    for vuln in project.get("vulnerabilities") or []:
        if vuln.get("withdrawn"):
            continue
        ids = ", ".join([vuln.get("id") or "?"] + list(vuln.get("aliases") or []))
        fixed = ", ".join(vuln.get("fixed_in") or []) or "belum ada"
        verdict.status = "fail"
        verdict.reasons.append(f"known vulnerability {ids} in {project['info']['version']} (fixed in: {fixed})")
    files = releases.get(version) or []
    if files and all(f.get("yanked") for f in files):
        verdict.status = "fail"
        verdict.reasons.append(f"{version} was yanked")
    if newer:
        first = min((t for t in (_uploaded(releases[v]) for v in newer) if t), default=None)
        age = (now - first).days if first else None
        if age is None or age > grace_days:
            verdict.status = "fail"
            verdict.reasons.append(f"not the latest release ({latest}); a newer one is out for "
                                   f"{'?' if age is None else age} days (> {grace_days}): update the lock")
        elif verdict.status == "pass":
            verdict.status = "note"
            verdict.reasons.append(f"not the latest release ({latest}, out for {age} days, grace {grace_days})")
    return verdict


def _python_ok(spec: str | None, python: tuple[int, ...]) -> bool:
    """Whether a Requires-Python specifier (">=3.9, !=3.10.*, <4") accepts this Python."""
    for clause in (spec or "").split(","):
        match = re.fullmatch(r"\s*(~=|==|!=|<=|>=|<|>)\s*([0-9.]+)(\.\*)?\s*", clause)
        if not clause.strip() or not match:
            continue
        op, text, star = match.groups()
        want = tuple(int(x) for x in text.strip(".").split("."))
        have = python[: len(want)] if star or op in ("==", "!=") else python
        pad = max(len(want), len(have))
        w, h = want + (0,) * (pad - len(want)), have + (0,) * (pad - len(have))
        ok = {"==": h == w, "!=": h != w, "<=": h <= w, ">=": h >= w, "<": h < w, ">": h > w,
              "~=": h >= w and h[: len(want) - 1] == w[: len(want) - 1]}[op]
        if not ok:
            return False
    return True


def _usable(files: list[dict], python: tuple[int, ...]) -> bool:
    return bool(files) and not all(f.get("yanked") for f in files) and any(
        _python_ok(f.get("requires_python"), python) for f in files)


def _is_final(version: str) -> bool:
    return re.fullmatch(r"[0-9]+(\.[0-9]+)*(\.post[0-9]+)?", version) is not None


def _is_newer(candidate: str, current: str) -> bool:
    try:
        return _version_key(candidate) > _version_key(current)
    except ValueError:
        return False


def run_pip_audit(lock: str) -> dict[str, list[str]] | None:
    """{package: [vulnerability ids]} for the packages pip-audit really checked, or None
    when pip-audit is missing or its services do not answer."""
    exe = shutil.which("pip-audit")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "-r", lock, "--require-hashes", "--disable-pip", "--no-deps", "--format", "json",
                               "--progress-spinner", "off", "--timeout", str(int(TIMEOUT))],
                              capture_output=True, text=True, timeout=300)
        report = json.loads(done.stdout)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return None
    checked = {}
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            continue  # "not found on PyPI": the per-version API did not answer
        checked[normalize(dep["name"])] = [v.get("id", "?") for v in dep.get("vulns", [])]
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", nargs="?", default="requirements.lock")
    args = parser.parse_args(argv)
    pins = read_lock(args.lock)
    if not pins:
        print(f"audit: no pinned packages found in {args.lock}", file=sys.stderr)
        return 2
    by_pip_audit = run_pip_audit(args.lock) or {}
    verdicts = [Verdict(n, pins[n], "fail" if ids else "pass", [f"pip-audit: {', '.join(ids)}"] if ids else [])
                for n, ids in by_pip_audit.items() if n in pins]
    rest = sorted(set(pins) - set(by_pip_audit))
    now = dt.datetime.now(dt.UTC)
    errors: list[str] = []

    def check(name: str):
        try:
            return judge(name, pins[name], fetch_project(name), now)
        except NetworkError as exc:
            errors.append(str(exc))
        except (KeyError, TypeError) as exc:
            errors.append(f"{name}: unexpected answer from the index ({exc!r})")
        return None

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        verdicts += [v for v in pool.map(check, rest) if v is not None]
    if errors:
        print(f"audit: FAILED — could not look up {len(errors)} of {len(pins)} packages at {INDEX} "
              "(network or index failure; the dependency audit needs the package index):", file=sys.stderr)
        for line in sorted(errors):
            print(f"  {line}", file=sys.stderr)
        return 2
    verdicts.sort(key=lambda v: v.name)
    for v in verdicts:
        if v.status != "pass":
            print(f"{v.status.upper():5} {v.name}=={v.version}: " + "; ".join(v.reasons))
    failed = [v for v in verdicts if v.status == "fail"]
    how = f"{len(by_pip_audit)} by pip-audit, {len(rest)} by the index's project JSON"
    print(f"audit: {len(verdicts)} packages checked ({how}); {len(failed)} to fix")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
