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
