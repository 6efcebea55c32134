"""Benchmark: failover of the HA main cluster, each drill repeated, while a client writes.

Brings up the HA test environment (three members under Patroni, etcd on the same three, the
backup host; `tests/integration/harness.py`'s `ha_inventory`, on worker slot 7's network and
ports so it runs beside nothing else of the tests), converges it, then repeats each drill of
`tests/integration/ha.py` (docker kill of the leader, kill -9 of its postmaster, the leader
cut off the network, etcd SIGSTOPped on the leader's host): a client writes through the
application pool (multi-host `DATABASE_URL`, `target_session_attrs=read-write`, 3 x 20/s),
the fault is injected, and the bench measures the time until a running leader is listed and
the longest gap between two acknowledged writes; then heals the host and converges again.
Prints per drill the median and the worst of both, and the acknowledged writes lost (0).

    .venv/bin/python bench/ha.py              # 5 repetitions of each drill
    .venv/bin/python bench/ha.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("ADX_TEST_WORKER", "7")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from adxdb.inventory.loader import load_model  # noqa: E402
from tests.integration.conftest import HostsUnderTest  # noqa: E402
from tests.integration.ha import (  # noqa: E402
    DRILLS,
    Drill,
    Writer,
    database_url,
    leader,
    make_probe_table,
    rows_present,
    synchronous_standby,
    wait_for,
)
from tests.integration.harness import HA_MEMBERS, HA_PY, HA_YML, DeployRun, converge  # noqa: E402


def _testhosts(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tools.testhosts", *args],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def one_drill(env: HostsUnderTest, drill: Drill) -> tuple[float, float, int, float]:
    """(seconds to a running leader, longest write gap, acknowledged writes lost, seconds until
    the leader has a synchronous standby again: the cluster could survive a second loss)."""
    old = leader(env)
    assert old is not None
    make_probe_table(env, old)
    survivors = tuple(m for m in HA_MEMBERS if m != old or drill.same_leader_allowed)
    writer = Writer(database_url(env)).start()
    try:
        wait_for(lambda: writer.acked_after(time.monotonic() - 2) > 20, 30, "writes flow")
        time.sleep(3)
        struck = time.monotonic()
        drill.fault(env, old)
        if drill.same_leader_allowed:
            time.sleep(1)
        new = wait_for(lambda: leader(env, survivors), 120, "a leader")
        elected = time.monotonic() - struck
        wait_for(lambda: writer.acked_after(time.monotonic() - 1) > 5, 120, "writes again")
        wait_for(lambda: synchronous_standby(env, survivors), 120, "a synchronous standby")
        safe = time.monotonic() - struck
        time.sleep(1)
    finally:
        writer.stop()
        drill.heal(env, old)
    acked = [i for _, i in writer.acked]
    lost = len(acked) - rows_present(env, new, acked)
    converge(env.inventory)  # the old leader rejoins
    return elected, writer.longest_gap(), lost, safe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = load_model(HA_YML)
    _testhosts("image")
    _testhosts("down", str(HA_YML))
    _testhosts("up", str(HA_YML))
    try:
        converge(HA_PY)
        hosts = HostsUnderTest(env, DeployRun(0, ""), DeployRun(0, ""), HA_PY)
        ha = env.ha_settings()
        print(
            f"HA main cluster: {len(HA_MEMBERS)} members, ttl {ha.ttl} s, loop_wait "
            f"{ha.loop_wait} s, retry_timeout {ha.retry_timeout} s; {args.repeat} runs each"
        )
        print(
            f"{'drill':<40}{'leader median':>14}{'worst':>8}{'gap median':>12}{'worst':>8}"
            f"{'sync standby median':>21}{'worst':>8}  lost"
        )
        for drill in DRILLS:
            runs = [one_drill(hosts, drill) for _ in range(args.repeat)]
            elected = [r[0] for r in runs]
            gaps = [r[1] for r in runs]
            safe = [r[3] for r in runs]
            print(
                f"{drill.name:<40}{statistics.median(elected):>13.1f}s{max(elected):>7.1f}s"
                f"{statistics.median(gaps):>11.1f}s{max(gaps):>7.1f}s"
                f"{statistics.median(safe):>20.1f}s{max(safe):>7.1f}s  {sum(r[2] for r in runs)}",
                flush=True,
            )
    finally:
        _testhosts("down", str(HA_YML))
    return 0


if __name__ == "__main__":
    sys.exit(main())
