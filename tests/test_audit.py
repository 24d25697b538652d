"""`make audit` (.ci/audit) reads pip-audit's JSON report: a known vulnerability fails the build.

PyPI's vulnerability data does not answer from the development machine, so these tests give .ci/audit a
pip-audit that prints a report in pip-audit's own JSON format (pip_audit/_format/json.py) instead.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def audit(tmp_path: Path, report: dict | None, stderr: str = "") -> subprocess.CompletedProcess:
    pip_audit = tmp_path / "pip-audit"
    output = json.dumps(report) if report is not None else ""
    pip_audit.write_text(
        f"#!{sys.executable}\nimport sys\nprint({output!r})\nprint({stderr!r}, file=sys.stderr)\n"
        f"sys.exit({1 if report is None or any(d.get('vulns') for d in report['dependencies']) else 0})\n"
    )
    pip_audit.chmod(0o755)
    return subprocess.run([sys.executable, ".ci/audit", str(pip_audit)], cwd=ROOT, capture_output=True, text=True)


def test_a_known_vulnerability_fails_the_build_and_names_the_package_and_the_fix(tmp_path):
    report = {
        "dependencies": [
            {"name": "django", "version": "6.1.0", "vulns": [{"id": "PYSEC-2026-1", "fix_versions": ["6.1.1"]}]},
            {"name": "numpy", "version": "2.3.0", "vulns": []},
        ],
        "fixes": [],
    }

    result = audit(tmp_path, report)

    assert result.returncode == 1
    assert "django 6.1.0: PYSEC-2026-1 (fixed in 6.1.1)" in result.stdout
    assert "1 of 2 audited locked packages have a known vulnerability" in result.stdout


def test_packages_it_could_not_audit_are_said_loudly_without_failing(tmp_path):
    report = {
        "dependencies": [
            {"name": "numpy", "version": "2.3.0", "vulns": []},
            {"name": "tqdm", "skip_reason": "Dependency not found on PyPI and could not be audited: tqdm (4.70.1)"},
        ],
        "fixes": [],
    }

    result = audit(tmp_path, report)

    assert result.returncode == 0
    assert "0 of 1 audited locked packages" in result.stdout
    assert "WARNING: 1 locked packages were NOT audited: Dependency not found on PyPI" in result.stderr


def test_an_audit_that_cannot_run_says_nothing_was_audited(tmp_path):
    result = audit(tmp_path, None, stderr="requests.exceptions.ConnectionError: pypi.org unreachable")

    assert result.returncode == 0
    assert "NO dependency was audited: requests.exceptions.ConnectionError: pypi.org unreachable" in result.stderr
