"""Run the integration modules on several copies of the test environment at once.

    python -m tools.integration [--workers N] [MODULE ...]

The modules (tests/integration/test_*.py, or those named) are dealt to N workers, longest
first, each module to the worker with the least expected time so far (`EXPECTED_SECONDS`,
measured; any other module counts as `DEFAULT_SECONDS`). Each worker is one pytest process
with ADX_TEST_WORKER=i: its session brings up its own copy of the environment (worker 0 the
environment itself, worker N one on a network and ports of its own, tests/integration/
harness.py), converges it, runs its modules and tears it down. Every line a worker prints is
shown as it comes, prefixed with the worker's number; the exit status is the first failing
worker's (0 when all pass).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "tests" / "integration"
# Seconds each module took on its own on the 2-core development machine (2026-12-02).
EXPECTED_SECONDS = {
    "test_tenant_moves.py": 560,
    "test_large_move.py": 420,
    "test_moves_out_of_databases.py": 330,
    "test_hardening.py": 150,
    "test_backups.py": 600,
    "test_restore.py": 150,
    "test_tenant_export.py": 150,
    "test_converge.py": 90,
    "test_restart.py": 90,
    "test_migrations.py": 90,
    "test_tenants.py": 90,
    "test_ha.py": 1150,
}
DEFAULT_SECONDS = 45


def deal(modules: list[str], workers: int) -> list[list[str]]:
    """Modules per worker: longest first, each to the least loaded worker."""
    groups: list[list[str]] = [[] for _ in range(max(1, workers))]
    loads = [0] * len(groups)
    expected = sorted(modules, key=lambda m: (-EXPECTED_SECONDS.get(m, DEFAULT_SECONDS), m))
    for module in expected:
        least = loads.index(min(loads))
        groups[least].append(module)
        loads[least] += EXPECTED_SECONDS.get(module, DEFAULT_SECONDS)
    return [group for group in groups if group]


def _relay(worker: int, process: subprocess.Popen[str], lock: threading.Lock) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        with lock:
            sys.stdout.write(f"[w{worker}] {line}")
            sys.stdout.flush()


def run(groups: list[list[str]]) -> int:
    """Run each group in a pytest process of its own, at once; the first failing status."""
    lock = threading.Lock()
    started = time.monotonic()
    processes: list[subprocess.Popen[str]] = []
    relays: list[threading.Thread] = []
    for worker, group in enumerate(groups):
        print(f"[w{worker}] {' '.join(group)}", flush=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-v", *(str(INTEGRATION / m) for m in group)],
            cwd=REPO,
            env={**os.environ, "ADX_TEST_WORKER": str(worker)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        relay = threading.Thread(target=_relay, args=(worker, process, lock))
        relay.start()
        relays.append(relay)
    statuses = [process.wait() for process in processes]
    for relay in relays:
        relay.join()
    for worker, status in enumerate(statuses):
        print(f"[w{worker}] exit {status}", flush=True)
    print(f"integration: {len(groups)} worker(s), {time.monotonic() - started:.0f} s", flush=True)
    return next((status for status in statuses if status != 0), 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.integration", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("modules", nargs="*", help="test_*.py files of tests/integration")
    args = parser.parse_args(argv)
    modules = args.modules or sorted(p.name for p in INTEGRATION.glob("test_*.py"))
    return run(deal([Path(m).name for m in modules], args.workers))


if __name__ == "__main__":
    sys.exit(main())
