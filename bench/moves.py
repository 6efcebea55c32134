"""Benchmark: a tenant move (schema -> a dedicated database on the tenant host) against the
tool an operator would otherwise use, `pg_dump -Fc -n tenant_x | pg_restore` of the same
schema into a database on the same host, in the same run, with the same rows.

Brings up the test environment (fresh hosts), declares the tenant `bench` at the schema level,
fills its schema with about SIZE MB (default 200) in three tenant tables (one of them a tree),
then times: the dump piped into a restore on the tenant host; the deploy that moves the tenant
there (minus a no-op converge of the same inventory, measured just before); and prints rows/s
and MB/s for both, and the freeze the move reported.

    .venv/bin/python bench/moves.py            # 200 MB
    .venv/bin/python bench/moves.py --mb 1000

It uses the `test` environment's hosts and state (.adx/test): don't run it beside `make test`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TEST_YML = REPO / "inventories" / "test.yml"
BIN = Path(sys.executable).parent
TENANT = uuid.UUID("6e6e6e6e-0000-4000-8000-00000000beef")
SCHEMA = "tenant_bench"
ROW_KB = 1  # about 1 kB of incompressible text a row
# Correlated with the row (i): an uncorrelated subquery runs once, and every row got one value.
BLOB = "(SELECT string_agg(md5(random()::text || j || i), '') FROM generate_series(1, 32) j)"


def _testhosts(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tools.testhosts", *args],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _container(host: str) -> str:
    return f"adx-test-{host}"


def _psql(host: str, database: str, query: str) -> str:
    done = subprocess.run(
        ["docker", "exec", _container(host), "runuser", "-u", "postgres", "--", "psql", "-X",
         "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", query],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _inventory(directory: Path, isolation: str) -> Path:
    data = yaml.safe_load(TEST_YML.read_text())
    data["state_dir"] = str(REPO / ".adx" / "test")
    data["seed"] = None
    bench: dict[str, object] = {
        "slug": "bench",
        "id": str(TENANT),
        "name": "Bench",
        "isolation": isolation,
    }
    if isolation == "database":
        bench["host"] = "tenant1"
    data["tenants"] = [*data.get("tenants", []), bench]
    folder = directory / isolation / "inventories"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test.yml").write_text(yaml.safe_dump(data))
    (folder / "test.py").write_text((REPO / "inventories" / "test.py").read_text())
    return folder / "test.py"


def _converge(inventory: Path) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(
        [str(BIN / "pyinfra"), "-y", str(inventory), str(REPO / "deploy.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        sys.exit(f"deploy failed:\n{output[-4000:]}")
    return elapsed, output


def _fill(megabytes: int) -> tuple[int, int]:
    """The tenant's rows in its schema: executions (a tree), their events, activity logs."""
    rows = megabytes * 1024 // ROW_KB
    executions, events = rows * 3 // 10, rows * 4 // 10
    activity = rows - executions - events
    tenant = f"'{TENANT}'"
    _psql("pg1", "adx_core", (
        f"INSERT INTO {SCHEMA}.workflow_executions (id, tenant_id, temporal_workflow_id, "
        "temporal_run_id, workflow_type, task_queue, service_name, parent_execution_id, input) "
        f"SELECT md5({tenant} || ':x' || i)::uuid, {tenant}, 'b-' || i, 'run', 'bench', 'q', "
        f"'bench', CASE WHEN i > 1 THEN md5({tenant} || ':x' || (i / 2))::uuid END, "
        f"jsonb_build_object('blob', {BLOB}) FROM generate_series(1, {executions}) i"
    ))  # fmt: skip
    _psql("pg1", "adx_core", (
        f"INSERT INTO {SCHEMA}.workflow_events (tenant_id, execution_id, event_type, "
        f"service_name, payload) SELECT {tenant}, md5({tenant} || ':x' || (1 + i % "
        f"{executions}))::uuid, 'bench', 'bench', jsonb_build_object('blob', {BLOB}) "
        f"FROM generate_series(1, {events}) i"
    ))  # fmt: skip
    _psql("pg1", "adx_core", (
        f"INSERT INTO {SCHEMA}.user_activity_logs (tenant_id, action, metadata) "
        f"SELECT {tenant}, 'bench', jsonb_build_object('blob', {BLOB}) "
        f"FROM generate_series(1, {activity}) i"
    ))  # fmt: skip
    size = int(_psql("pg1", "adx_core", (
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
        f"ON n.oid = c.relnamespace WHERE n.nspname = '{SCHEMA}' AND c.relkind = 'r'"
    )))  # fmt: skip
    return rows, size


def _dump_and_restore() -> float:
    """pg_dump of the schema on the primary, piped into pg_restore on the tenant host."""
    _psql("tenant1", "postgres", "DROP DATABASE IF EXISTS bench_restore")
    _psql("tenant1", "postgres", "CREATE DATABASE bench_restore")
    started = time.perf_counter()
    dump = subprocess.Popen(
        ["docker", "exec", _container("pg1"), "runuser", "-u", "postgres", "--",
         "pg_dump", "-Fc", "-n", SCHEMA, "adx_core"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    restore = subprocess.run(
        ["docker", "exec", "-i", _container("tenant1"), "runuser", "-u", "postgres", "--",
         "pg_restore", "--no-owner", "--no-acl", "-d", "bench_restore"],
        stdin=dump.stdout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    dump.wait()
    elapsed = time.perf_counter() - started
    if dump.returncode != 0:
        sys.exit("pg_dump failed")
    if restore.returncode != 0 and "error" in restore.stderr.lower():
        print(f"pg_restore reported: {restore.stderr.strip()[-500:]}", file=sys.stderr)
    _psql("tenant1", "postgres", "DROP DATABASE bench_restore")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="the tenant's size, about")
    args = parser.parse_args()
    _testhosts("image")
    _testhosts("down", str(TEST_YML))
    _testhosts("up", str(TEST_YML))
    try:
        with tempfile.TemporaryDirectory() as scratch:
            as_schema = _inventory(Path(scratch), "schema")
            _converge(as_schema)
            rows, size = _fill(args.mb)
            megabytes = size / 1e6
            print(f"tenant bench: {rows} rows, {megabytes:.0f} MB on disk (tables + indexes)")
            dumped = _dump_and_restore()
            noop, _ = _converge(as_schema)
            moved, _ = _converge(_inventory(Path(scratch), "database"))
            move = moved - noop
            frozen = _psql("pg1", "adx_core", (
                "SELECT frozen_ms FROM adx_migrations.move_history "
                f"WHERE tenant = '{TENANT}' ORDER BY id DESC LIMIT 1"
            ))  # fmt: skip
            print(f"{'':28} {'s':>8} {'rows/s':>10} {'MB/s':>7}")
            print(
                f"{'pg_dump -Fc | pg_restore':28} {dumped:>8.1f} {rows / dumped:>10.0f} "
                f"{megabytes / dumped:>7.1f}"
            )
            print(
                f"{'adxdb move (deploy - no-op)':28} {move:>8.1f} {rows / move:>10.0f} "
                f"{megabytes / move:>7.1f}"
            )
            print(f"move / dump+restore: {move / dumped:.2f}x the time")
            print(f"writes frozen: {frozen} ms (the move); the whole run (pg_dump | pg_restore)")
    finally:
        _testhosts("down", str(TEST_YML))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
