"""The application pool gives every borrower a clean session: a session-level `SET` (or
`SET ROLE`) of one borrower never reaches the next."""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from adxdb.app.pool import make_pool
from adxdb.app.settings import DatabaseSettings
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import app_settings


def _settings(test_env: HostsUnderTest) -> DatabaseSettings:
    return app_settings(test_env.pg_port("pg1"), DB_MAX_CONNECTIONS=1, DB_MIN_CONNECTIONS=1)


def _work_mem_after_a_borrower_set_it(pool: ConnectionPool[Any]) -> tuple[str, int, int]:
    with pool.connection() as conn:
        conn.execute("SET work_mem = '77MB'")
        conn.commit()
        first_pid = conn.info.backend_pid
    with pool.connection() as conn:
        row = conn.execute("SHOW work_mem").fetchone()
        assert row is not None
        return str(row[0]), first_pid, conn.info.backend_pid


def test_the_next_borrower_sees_the_defaults(test_env: HostsUnderTest) -> None:
    with make_pool(_settings(test_env)) as pool:
        work_mem, first, second = _work_mem_after_a_borrower_set_it(pool)
    assert first == second  # the same server session, handed on
    assert work_mem == "4MB"  # inventories/test.yml's setting, not the borrower's 77MB


def test_without_the_reset_the_setting_leaks(test_env: HostsUnderTest) -> None:
    """Negative twin: a pool with no reset hands the borrower's setting on."""
    settings = _settings(test_env)
    with ConnectionPool(settings.database_url, min_size=1, max_size=1, open=True) as pool:
        work_mem, first, second = _work_mem_after_a_borrower_set_it(pool)
    assert first == second
    assert work_mem == "77MB"
