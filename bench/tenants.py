"""Benchmark: converge cost against the number of tenants (issue: fleet scale).

Brings up the test environment (fresh hosts), declares N schema tenants plus a few database
tenants on the tenant host, and prints for each N: the first converge time, the no-op
converge time, and how many commands the no-op converge ran over SSH.

    .venv/bin/python bench/tenants.py            # N = 10 100 1000
    .venv/bin/python bench/tenants.py 10 100     # chosen sizes

It uses the `test` environment's hosts and state (.adx/test): don't run it beside `make test`.
"""

from __future__ import annotations

import argparse
import re
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
DATABASE_TENANTS = 2


def _testhosts(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tools.testhosts", *args],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _inventory(directory: Path, schema_tenants: int) -> Path:
    data = yaml.safe_load(TEST_YML.read_text())
    data["state_dir"] = str(REPO / ".adx" / "test")
    data["seed"] = None
    tenants = [
        {
            "slug": f"s{n:05d}",
            "id": str(uuid.UUID(int=n + 1)),
            "name": f"S{n}",
            "isolation": "schema",
        }
        for n in range(schema_tenants)
    ]
    tenants += [
        {
            "slug": f"d{n:03d}",
            "id": str(uuid.UUID(int=10**6 + n)),
            "name": f"D{n}",
            "isolation": "database",
            "host": "tenant1",
        }
        for n in range(DATABASE_TENANTS)
    ]
    data["tenants"] = tenants
    (directory / "inventories").mkdir(parents=True, exist_ok=True)
    (directory / "inventories" / "test.yml").write_text(yaml.safe_dump(data))
    (directory / "inventories" / "test.py").write_text(
        (REPO / "inventories" / "test.py").read_text()
    )
    return directory / "inventories" / "test.py"


def _converge(inventory: Path, *flags: str) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(
        [str(BIN / "pyinfra"), "-y", *flags, str(inventory), str(REPO / "deploy.py")],
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


def _changed(output: str) -> int:
    total = re.search(r"Grand total\s+\d+\s+(\S+)", output)
    return 0 if total is None or total.group(1) == "-" else int(total.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100, 1000])
    args = parser.parse_args()
    _testhosts("image")
    print(
        f"{'N schema':>9} {'+db':>4} {'first converge s':>17} {'no-op s':>8} "
        f"{'no-op SSH cmds':>15} {'no-op changes':>14}"
    )
    for size in args.sizes:
        _testhosts("down", str(TEST_YML))
        _testhosts("up", str(TEST_YML))
        with tempfile.TemporaryDirectory() as scratch:
            inventory = _inventory(Path(scratch), size)
            first, _ = _converge(inventory)
            noop, output = _converge(inventory, "-vvv")
        commands = sum(1 for line in output.splitlines() if ">>> " in line)
        print(
            f"{size:>9} {DATABASE_TENANTS:>4} {first:>17.1f} {noop:>8.1f} {commands:>15} "
            f"{_changed(output):>14}",
            flush=True,
        )
    _testhosts("down", str(TEST_YML))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
