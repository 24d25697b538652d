"""The team deployment files: checked with the real Docker Compose v2 binary.

There is no Docker engine here, so images are not built or run; `config`
parses the file, resolves every variable and validates it against the
Compose specification. What the image installs is checked on the wheel
`pip install .` builds from the files the Dockerfile copies.
"""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import compose
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
# The binary itself: the package's Python wrapper loses its exit status.
COMPOSE = Path(compose.__file__).parent / "docker-compose"


def local_apps() -> set[str]:
    """The apps of INSTALLED_APPS whose code is in this repository, so that a new app is checked too."""
    return {name.split(".")[0] for name in settings.INSTALLED_APPS if (ROOT / name.split(".")[0]).is_dir()}


def compose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(COMPOSE), "--project-directory", str(ROOT), *args], capture_output=True, text=True, timeout=60
    )


def test_docker_compose_config_validates_with_the_documented_variables():
    result = compose("--env-file", str(ROOT / ".env.example"), "config", "--format", "json")

    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"db", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert "gunicorn annotator.wsgi" in " ".join(services["web"]["command"])
    assert services["worker"]["command"] == ["python", "manage.py", "db_worker", "--no-reload"]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://annotator:")


def test_web_and_worker_share_the_uploads_volume():
    """The web app streams uploaded dumps to disk; the worker must find them there."""
    result = compose("--env-file", str(ROOT / ".env.example"), "config", "--format", "json")

    config = json.loads(result.stdout)
    for name in ("web", "worker"):
        service = config["services"][name]
        mounts = {volume["source"]: volume["target"] for volume in service["volumes"] if volume["type"] == "volume"}
        assert mounts["uploads"] == f"{service['environment']['ANNOTATOR_DATA_DIR']}/uploads", name
    assert "uploads" in config["volumes"]
    # The named volume starts as a copy of the image's directory, which the app's user owns.
    assert "mkdir -p /data/uploads && chown -R annotator:annotator /data" in (ROOT / "Dockerfile").read_text()


def test_gunicorn_is_reached_only_through_the_proxy_on_the_host(tmp_path):
    """Published on every interface, gunicorn would take X-Forwarded-Proto and -For from anyone: a client could
    skip the redirect to HTTPS and choose the address its failed logins count against."""
    env_file = tmp_path / ".env"  # an operator who never heard of ANNOTATOR_TRUSTED_PROXIES
    env_file.write_text(
        "\n".join(
            line
            for line in (ROOT / ".env.example").read_text().splitlines()
            if not line.startswith("ANNOTATOR_TRUSTED_PROXIES=")
        )
    )

    result = compose("--env-file", str(env_file), "config", "--format", "json")

    web = json.loads(result.stdout)["services"]["web"]
    assert [(port["host_ip"], port["published"], port["target"]) for port in web["ports"]] == [
        ("127.0.0.1", "8000", 8000)
    ]
    assert web["environment"]["HTTPS"] == "1" and web["environment"]["ANNOTATOR_TRUSTED_PROXIES"] == "1"


def test_docker_compose_refuses_to_start_without_a_secret_key(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(
            line for line in (ROOT / ".env.example").read_text().splitlines() if not line.startswith("SECRET_KEY=")
        )
    )

    result = compose("--env-file", str(env_file), "config", "--quiet")

    assert result.returncode != 0
    assert "set SECRET_KEY in .env" in result.stderr


def test_every_variable_the_settings_read_is_documented():
    settings_source = "".join((ROOT / name).read_text() for name in ("annotator/settings.py", "annotator/paths.py"))
    documented = (ROOT / ".env.example").read_text()
    read = set(re.findall(r'(?:environ\.get|environ\[|env_(?:bool|list|int)\()\(?"([A-Z_]+)"', settings_source))

    assert {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "HTTPS", "DEBUG", "ANNOTATOR_DEMO"} <= read
    assert "IMPORT_MAX_UPLOAD_BYTES" in read
    for name in read:
        assert re.search(rf"^#? ?{name}=", documented, re.MULTILINE), f"{name} is not in .env.example"


def test_the_dockerfile_copies_every_app_before_installing_it():
    """`pip install .` packs only the folders copied before it: an app left out fails at startup with
    "No module named …" in the image alone, as every test runs on the checkout."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    install = next(number for number, line in enumerate(lines) if line.startswith("RUN pip install"))
    copies = [line.split()[1:-1] for line in lines[:install] if line.startswith("COPY ")]
    copied = {source.rstrip("/") for sources in copies for source in sources}

    assert {"annotator", "studies", "llm", "surveys"} <= local_apps()
    missing = sorted(local_apps() - copied)
    assert not missing, f"not copied before `pip install .` in the Dockerfile: {missing}"


def test_the_wheel_holds_every_app_and_every_file_the_apps_read(tmp_path):
    """setuptools packs only the listed packages and the declared package data: a module or data file it leaves out
    is missing after `pip install .` (the image's, or any install that is not editable) and nowhere in the tests."""
    source = tmp_path / "source"
    # A copy: building in place leaves build/lib behind, whose stale files a later wheel would pack.
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build", "staticfiles")
    )

    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path, source],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    expected = {
        path.relative_to(source).as_posix()
        for app in local_apps()
        for path in (source / app).rglob("*")
        if path.is_file()
    }
    assert "studies/presets/silent-bugs.json" in expected
    missing = sorted(expected - packed)
    assert not missing, f"not in the wheel (pyproject.toml's packages or package-data): {missing}"
