"""Production settings fail closed and pass Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "SECRET_KEY": "k3Q9-production-only-" + "x7Vf2pLm8Rz" * 5,
    # Never reached: `check --deploy` does not connect unless asked to.
    "DATABASE_URL": "postgres://annotator:secret@db.invalid:5432/annotator",
    "ALLOWED_HOSTS": "annotator.example.org",
    "HTTPS": "1",
}


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Only what a production container would have: none of the test run's variables.
    clean_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, "ANNOTATOR_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_checklist_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION_ENV, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = manage("check", env=env, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_keeps_debug_off_unless_asked(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG)"

    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV, tmp_path=tmp_path)

    assert result.stdout.strip() == "False"


def test_it_names_a_malformed_boolean(tmp_path):
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "maybe"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "DEBUG must be 1/0, true/false, yes/no or on/off, not 'maybe'" in result.stderr


def test_it_reads_the_database_from_database_url(tmp_path):
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['HOST'], d['NAME'])"

    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV, tmp_path=tmp_path)

    assert result.stdout.strip() == "db.invalid annotator"
    assert not (tmp_path / "postgres").exists(), "no embedded server when DATABASE_URL is set"


def test_a_client_cannot_skip_the_https_redirect_by_claiming_https_unless_a_proxy_is_trusted(tmp_path):
    """X-Forwarded-Proto is the TLS proxy's word; sent straight to gunicorn, it is the client's own claim. And a
    proxy the operator forgot to declare meets a page saying what to set, not an endless redirect."""
    code = (
        "from django.test import Client; c = Client(HTTP_HOST='annotator.example.org'); "
        "r = c.get('/'); print(r.status_code, r.get('Location')); "
        "r = c.get('/', HTTP_X_FORWARDED_PROTO='https'); print(r.status_code, r.get('Location')); "
        "print(r.content.decode())"
    )

    behind_proxy = {**PRODUCTION_ENV, "ANNOTATOR_TRUSTED_PROXIES": "1"}

    direct = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV, tmp_path=tmp_path)
    proxied = manage("shell", "--no-imports", "-c", code, env=behind_proxy, tmp_path=tmp_path)

    plain, claimed, page = direct.stdout.split("\n", 2)
    assert plain.split() == ["301", "https://annotator.example.org/"], direct.stderr
    assert claimed.split() == ["400", "None"]
    assert "the app trusts no proxy (ANNOTATOR_TRUSTED_PROXIES is 0)" in page
    assert proxied.stdout.split("\n")[1].split() == ["302", "/accounts/login/?next=/"], proxied.stderr


def test_it_names_a_malformed_proxy_count(tmp_path):
    result = manage("check", env={**PRODUCTION_ENV, "ANNOTATOR_TRUSTED_PROXIES": "-1"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "ANNOTATOR_TRUSTED_PROXIES must be 0 or more, not -1" in result.stderr
