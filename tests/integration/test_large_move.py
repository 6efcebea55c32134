"""A large tenant moves rls -> database in bounded statements and bounded memory: about 1 GB
across its tables, more than 300 MB of it in one table whose rows reference each other. Prints
its figures (size, time, rate, the freeze, peak memory of the deploy and of the host's psql)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import REPO, VENV_BIN, converge, parse_results
from tests.integration.test_tenant_moves import (  # noqa: F401 (wonka: the fixture)
    MOVES_OP,
    WONKA,
    _empty_at,
    _frozen_ms,
    _inventory,
    _load_rows,
    _registry,
    _rows,
    wonka,
)

EXECUTIONS = 300_000  # workflow_executions, a tree (each one's parent is execution i // 2)
EVENTS = 400_000  # workflow_events of those executions
ACTIVITY = 200_000  # user_activity_logs
BLOB = "(SELECT string_agg(md5(random()::text || j), '') FROM generate_series(1, 32) j)"


# The rows are consistent by construction: their foreign keys are not checked row by row
# while they are generated (a cached check plan chosen on an empty table scans it for every
# row: one CI run spent over an hour on the 300,000 executions).
UNCHECKED = "SET session_replication_role = replica; "


def _generate(test_env: HostsUnderTest) -> None:
    """About 1 KB of incompressible text a row, ids derived from WONKA and the row number."""
    tenant = f"'{WONKA}'"
    test_env.psql(
        "pg1",
        UNCHECKED + "INSERT INTO public.workflow_executions (id, tenant_id, temporal_workflow_id, "
        "temporal_run_id, workflow_type, task_queue, service_name, parent_execution_id, input) "
        f"SELECT md5({tenant} || ':x' || i)::uuid, {tenant}, 'big-' || i, 'run', 'probe', 'q', "
        f"'test', CASE WHEN i > 1 THEN md5({tenant} || ':x' || (i / 2))::uuid END, "
        f"jsonb_build_object('blob', {BLOB}) FROM generate_series(1, {EXECUTIONS}) i",
        "adx_core",
    )
    test_env.psql(
        "pg1",
        UNCHECKED + "INSERT INTO public.workflow_events (tenant_id, execution_id, event_type, "
        "service_name, "
        f"payload) SELECT {tenant}, md5({tenant} || ':x' || (1 + i % {EXECUTIONS}))::uuid, "
        f"'probe', 'test', jsonb_build_object('blob', {BLOB}) "
        f"FROM generate_series(1, {EVENTS}) i",
        "adx_core",
    )
    test_env.psql(
        "pg1",
        "INSERT INTO public.user_activity_logs (tenant_id, action, metadata) "
        f"SELECT {tenant}, 'probe', jsonb_build_object('blob', {BLOB}) "
        f"FROM generate_series(1, {ACTIVITY}) i",
        "adx_core",
    )


def _tenant_bytes(test_env: HostsUnderTest, table: str) -> int:
    query = f"SELECT sum(pg_column_size(r)) FROM public.{table} r WHERE r.tenant_id = '{WONKA}'"
    return int(test_env.psql("pg1", query, "adx_core") or 0)


def _deploy_measured(inventory: Path) -> tuple[int, str, int]:
    """The deploy, as the harness runs it, with the peak resident memory of its process (kB)."""
    with open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(
            [str(VENV_BIN / "pyinfra"), "-y", str(inventory), str(REPO / "deploy.py")],
            cwd=REPO,
            stdin=devnull,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        with process.stdout as stdout:
            output = stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, output, int(usage.ru_maxrss)


def _peak_psql_rss(test_env: HostsUnderTest, stop: threading.Event, peak: list[int]) -> None:
    """The largest resident size of any psql process on either host, sampled (kB)."""
    while not stop.is_set():
        sizes = test_env.run_as_root("pg1", "sh", "-c", "ps -C psql -o rss= || true")
        peak.extend(int(size) for size in sizes.split())
        sizes = test_env.run_as_root("tenant1", "sh", "-c", "ps -C psql -o rss= || true")
        peak.extend(int(size) for size in sizes.split())
        time.sleep(0.5)


def test_a_one_gigabyte_tenant_moves_in_bounded_statements_and_memory(
    test_env: HostsUnderTest,
    tmp_path: Path,
    wonka: None,  # noqa: F811
) -> None:
    converge(_inventory(test_env, tmp_path, "rls"))
    _load_rows(test_env)
    started = time.monotonic()
    _generate(test_env)
    generated = time.monotonic() - started
    sizes = {
        t: _tenant_bytes(test_env, t)
        for t in ("workflow_executions", "workflow_events", "user_activity_logs")
    }
    assert sum(sizes.values()) > 0.9e9 and sizes["workflow_executions"] > 300e6, sizes
    before = _rows(test_env, "pg1", "adx_core", "public")

    moved = _inventory(test_env, tmp_path, "database")
    stop, psql_peaks = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_psql_rss, args=(test_env, stop, psql_peaks))
    sampler.start()
    started = time.monotonic()
    try:
        returncode, output, deploy_peak_kb = _deploy_measured(moved)
    finally:
        stop.set()
        sampler.join()
    took = time.monotonic() - started
    assert returncode == 0, output[-4000:]
    assert parse_results(output).get(MOVES_OP) == 1
    frozen = _frozen_ms(test_env)
    total = sum(sizes.values())
    rows = sum(int(count) for count, _ in before.values())
    print(
        f"\nlarge move: {total / 1e6:.0f} MB in {rows} rows (workflow_executions "
        f"{sizes['workflow_executions'] / 1e6:.0f} MB, a tree), generated in {generated:.0f} s; "
        f"the deploy moved it in {took:.0f} s ({rows / took:.0f} rows/s, "
        f"{total / 1e6 / took:.1f} MB/s), writes frozen {frozen} ms; peak memory: the "
        f"deploy {deploy_peak_kb / 1024:.0f} MiB, the host's psql {max(psql_peaks) / 1024:.0f} MiB"
    )
    assert _rows(test_env, "tenant1", "adx_tenant_wonka", "public") == before
    assert _empty_at(test_env, "pg1", "adx_core", "public") == {}
    tenant_host = test_env.env.hosts["tenant1"].address
    assert _registry(test_env) == f"database {tenant_host} adx_tenant_wonka public"
    # bounded: a statement carries at most 8 MiB of rows, psql holds one of them at a time
    assert max(psql_peaks) < 256 * 1024, max(psql_peaks)
    assert converge(moved).changed_ops == {}
