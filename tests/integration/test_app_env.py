"""`make local`'s last step: app.env holds a DATABASE_URL that connects as adx_app over
TLS verify-full, read the way a shell (or the application's settings) reads it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import psycopg

from adxdb.app.settings import DatabaseSettings
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import REPO, STATE_DIR, TEST_YML


def test_app_env_connects_as_app_over_verified_tls(test_env: HostsUnderTest) -> None:
    subprocess.run(
        [sys.executable, "-m", "adxdb.cli", "app-env", str(TEST_YML)],
        cwd=REPO,
        check=True,
        timeout=60,
    )
    app_env = STATE_DIR / "app.env"
    assert stat.S_IMODE(app_env.stat().st_mode) == 0o600
    sourced = subprocess.run(
        ["bash", "-c", f"set -a; . {app_env}; set +a; env"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    variables = dict(line.split("=", 1) for line in sourced.splitlines() if "=" in line)
    settings = DatabaseSettings.model_validate(variables)
    assert (settings.max_connections, settings.min_connections) == (20, 1)
    with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert row == ("adx_app", True)
    assert "sslmode=verify-full" in settings.database_url


def test_the_job_command_app_env_prints_works_as_printed(test_env: HostsUnderTest) -> None:
    """`make local`'s closing message shows a read job: run as printed (from the repository's
    folder), it connects as adx_monitor and the health check passes."""
    printed = subprocess.run(
        [sys.executable, "-m", "adxdb.cli", "app-env", str(TEST_YML)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    command = printed[printed.index("a health check of the environment, from the repository's "
                                    "folder:") + 1].strip()  # fmt: skip
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    run = subprocess.run(
        ["bash", "-c", command], cwd=REPO, capture_output=True, text=True, env=clean, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "adx_monitor" not in run.stderr and "critical" not in run.stdout
    assert len(run.stdout.splitlines()) > 3, run.stdout
    # Negative twin: the same job on the application's connection is refused (adx_app may
    # not run the health functions): the monitoring connection is what makes it work.
    as_app = subprocess.run(
        ["bash", "-c", command.replace("$MONITOR_DATABASE_URL", "$DATABASE_URL")],
        cwd=REPO, capture_output=True, text=True, env=clean, timeout=120,
    )  # fmt: skip
    assert as_app.returncode != 0
    assert "permission denied" in as_app.stdout + as_app.stderr
