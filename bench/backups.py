"""Benchmark: backup and restore throughput of the main database with pgBackRest (as the
deploy sets it up: a full backup taken by the backup host over TLS, a restore into a scratch
instance by `adxdb restore-drill`) next to the tools an operator would otherwise use,
`pg_dump -Fc` and `pg_restore -j 2` of the same database on its host, in the same run.

Brings up the test environment (fresh hosts), converges it, fills `adx_core` with about SIZE MB
(default 1024) of incompressible rows in one table, then times each step and prints MB/s of
the database's size (`pg_database_size`).

    .venv/bin/python bench/backups.py            # 1 GB
    .venv/bin/python bench/backups.py --mb 2048

It uses the `test` environment's hosts and state (.adx/test): don't run it beside `make test`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST_YML = REPO / "inventories" / "test.yml"
TEST_PY = REPO / "inventories" / "test.py"
BIN = Path(sys.executable).parent
DUMP = "/var/lib/postgresql/bench.dump"  # the postgres home on the database host
BLOB = "(SELECT string_agg(md5(random()::text || j || g), '') FROM generate_series(1, 32) j)"


def _run(*argv: str | Path, quiet: bool = True) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=REPO, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{done.stdout[-3000:]}{done.stderr}")
    return done.stdout + ("" if quiet else done.stderr)


def _on(host: str, *argv: str) -> str:
    return _run("docker", "exec", f"adx-test-{host}", "runuser", "-u", "postgres", "--", *argv)


def _psql(host: str, database: str, query: str) -> str:
    return _on(host, "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database,
               "-c", query).strip()  # fmt: skip


def _timed(*argv: str | Path) -> tuple[float, str]:
    started = time.monotonic()
    output = _run(*argv, quiet=False)
    return time.monotonic() - started, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=1024, help="about how many MB to fill")
    args = parser.parse_args()

    _run(sys.executable, "-m", "tools.testhosts", "down", TEST_YML)
    _run(sys.executable, "-m", "tools.testhosts", "up", TEST_YML)
    _run(BIN / "pyinfra", "-y", TEST_PY, "deploy.py")
    rows = args.mb * 1024  # about 1 kB a row
    began = time.monotonic()
    _psql("pg1", "adx_core", "CREATE TABLE public.bench_blob (id bigint PRIMARY KEY, v text)")
    for start in range(0, rows, 65536):
        _psql(
            "pg1", "adx_core",
            f"INSERT INTO public.bench_blob SELECT g, {BLOB} "
            f"FROM generate_series({start + 1}, {min(rows, start + 65536)}) g",
        )  # fmt: skip
    _psql("pg1", "adx_core", "CHECKPOINT")
    size_mb = int(_psql("pg1", "adx_core", "SELECT pg_database_size('adx_core')")) / 2**20
    print(f"adx_core: {size_mb:.0f} MB ({rows:,} rows of ~1 kB, filled in "
          f"{time.monotonic() - began:.0f} s)")  # fmt: skip

    results: list[tuple[str, float]] = []
    backup_s, _ = _timed(
        "docker", "exec", "adx-test-backup1", "runuser", "-u", "postgres", "--",
        "pgbackrest", "--stanza=adx", "--type=full", "backup",
    )  # fmt: skip
    results.append(("pgBackRest full backup (backup host, TLS, zstd)", backup_s))
    _, drill = _timed(BIN / "adxdb", "restore-drill", TEST_YML, "--cluster", "adx")
    restored = re.search(r"restored backup set \S+ \((\d+) MB\) in (\d+) s", drill)
    verified = re.search(r"verified in (\d+) s", drill)
    if restored is None or verified is None:
        raise SystemExit(f"no drill figures in:\n{drill[-3000:]}")
    results.append(("pgBackRest restore (scratch instance on the backup host)",
                    float(restored.group(2))))  # fmt: skip
    results.append(("adxdb restore-drill, whole (restore, recover, verify)",
                    float(verified.group(1))))  # fmt: skip

    dump_s, _ = _timed(
        "docker", "exec", "adx-test-pg1", "runuser", "-u", "postgres", "--",
        "pg_dump", "-Fc", "-d", "adx_core", "-f", DUMP,
    )  # fmt: skip
    dump_mb = int(_on("pg1", "stat", "-c", "%s", DUMP)) / 2**20
    results.append((f"pg_dump -Fc (on the database host, {dump_mb:.0f} MB file)", dump_s))
    _psql("pg1", "postgres", "CREATE DATABASE bench_restore")
    restore_s, _ = _timed(
        "docker", "exec", "adx-test-pg1", "runuser", "-u", "postgres", "--",
        "pg_restore", "-j", "2", "-d", "bench_restore", DUMP,
    )  # fmt: skip
    results.append(("pg_restore -j 2 (into a new database, same host)", restore_s))
    _psql("pg1", "postgres", "DROP DATABASE bench_restore")
    _on("pg1", "rm", "-f", DUMP)

    print(f"\n| {size_mb:.0f} MB database | s | MB/s |\n| --- | --- | --- |")
    for name, seconds in results:
        print(f"| {name} | {seconds:.1f} | {size_mb / max(seconds, 0.1):.1f} |")
    _run(sys.executable, "-m", "tools.testhosts", "down", TEST_YML)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
