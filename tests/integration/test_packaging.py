"""The bare install is the application side only: `pip install .` in a fresh virtual
environment gives `adxdb.app` (psycopg, psycopg-pool, pydantic-settings) and the packaged SQL,
and none of the deploy's or the tests' dependencies (pyinfra, PyYAML, cryptography, docker)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

from tests.integration.harness import REPO

DEPLOY_SIDE = {"pyinfra", "docker", "cryptography", "pyyaml"}


def installed(python: Path) -> set[str]:
    """Lower-case names of the distributions `pip list` shows for that interpreter."""
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {str(item["name"]).lower() for item in json.loads(listed.stdout)}


def test_the_bare_install_is_the_application_side_only(tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(REPO)],
        check=True,
        timeout=600,
        cwd=tmp_path,
    )
    probe = (
        "import adxdb.app.pool, adxdb.app.routing, adxdb.app.settings\n"
        "from adxdb import sqlfiles\n"
        "assert 'adx_migrations' in sqlfiles.load('deploy/ledger')\n"
        "assert str(sqlfiles.SQL_ROOT).startswith(sys.prefix), sqlfiles.SQL_ROOT\n"
        "print('ok')\n"
    )
    ran = subprocess.run(
        [str(python), "-c", "import sys\n" + probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # outside the checkout: the packaged SQL, not the repository's
    )
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stderr
    names = installed(python)
    assert {"adxdb", "psycopg", "psycopg-pool", "pydantic-settings"} <= names
    assert names & DEPLOY_SIDE == set()


def test_the_probe_sees_the_deploy_side_where_it_is_installed() -> None:
    """Negative twin: the development environment has the deploy side, and the probe says so."""
    assert DEPLOY_SIDE <= installed(Path(sys.executable))
