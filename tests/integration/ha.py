"""Helpers of the HA tests: the cluster as Patroni sees it, a client writing through the
application pool (multi-host, `target_session_attrs=read-write`) that counts acknowledged
writes, and faults injected for real."""

from __future__ import annotations

import io
import itertools
import json
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg_pool import PoolTimeout

from adxdb.app.pool import make_pool
from adxdb.app.routing import TenantConnections
from adxdb.app.settings import DatabaseSettings
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import HA_MEMBERS, HA_STATE_DIR
from tools.testhosts.engine import engine_client
from tools.testhosts.hosts import container_name

PATRONICTL = ("patronictl", "-c", "/etc/patroni/15-main.yml")
PSQL = "/usr/lib/postgresql/15/bin/psql"


def ha_password(role: str) -> str:
    return (HA_STATE_DIR / "secrets" / f"{role}.password").read_text().strip()


def container(env: HostsUnderTest, host: str) -> Any:
    return engine_client().containers.get(container_name(env.env, host))


def exec_in(env: HostsUnderTest, host: str, *argv: str, user: str = "root") -> tuple[int, str]:
    command = list(argv) if user == "root" else ["runuser", "-u", user, "--", *argv]
    result = container(env, host).exec_run(command)
    return result.exit_code, result.output.decode()


def put_private(env: HostsUnderTest, host: str, path: str, text: str) -> None:
    """Write `text` to `path` on the host, mode 0600 (a secret never in an argument list)."""
    folder, _, name = path.rpartition("/")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o600
        tar.addfile(info, io.BytesIO(data))
    container(env, host).put_archive(folder or "/", archive.getvalue())


def members(env: HostsUnderTest, survivors: tuple[str, ...] = HA_MEMBERS) -> list[dict[str, Any]]:
    """`patronictl list` as JSON, read on the first of `survivors` that answers."""
    for host in survivors:
        if container(env, host).status != "running":
            continue
        code, output = exec_in(env, host, *PATRONICTL, "list", "-f", "json", user="postgres")
        # Its log lines (a lost etcd member) come on stderr, mixed in: the JSON is the last.
        lines = [line for line in output.splitlines() if line.startswith("[")]
        if code == 0 and lines:
            return list(json.loads(lines[-1]))
    return []


def leader(env: HostsUnderTest, survivors: tuple[str, ...] = HA_MEMBERS) -> str | None:
    """The running leader among `survivors` (a lost leader stays listed until its key
    expires: it does not count)."""
    for member in members(env, survivors):
        if (
            member["Role"] == "Leader"
            and member["State"] == "running"
            and (member["Member"] in survivors)
        ):
            return str(member["Member"])
    return None


def synchronous_standby(env: HostsUnderTest, survivors: tuple[str, ...] = HA_MEMBERS) -> str | None:
    """The member Patroni names synchronous standby, seen from the first of `survivors`."""
    return next(
        (str(m["Member"]) for m in members(env, survivors) if m.get("Role") == "Sync Standby"),
        None,
    )


def wait_for(probe: Any, seconds: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {seconds} s")


def psql(env: HostsUnderTest, host: str, query: str, database: str = "adx_core") -> str:
    # PostgreSQL's own psql on the socket, not Debian's wrapper: the wrapper parses
    # postgresql.conf, which Patroni rewrites while it restarts a server.
    command = (PSQL, "-h", "/var/run/postgresql", "-X", "-A", "-t", "-d", database, "-c", query)
    code, output = exec_in(env, host, *command, user="postgres")
    # The Docker engine now and then hands back no output of a command that ended at once
    # (seen once under load: `SELECT count(*)` read as ""): a read is asked again.
    for _ in range(2):
        if code != 0 or output.strip() or not query.lstrip().upper().startswith("SELECT"):
            break
        code, output = exec_in(env, host, *command, user="postgres")
    assert code == 0, output
    return output.strip()


def database_url(env: HostsUnderTest, **extra: str) -> str:
    """`DATABASE_URL` of the HA cluster: every member, the writable one chosen by libpq."""
    hosts = ",".join(f"127.0.0.1:{env.pg_port(member)}" for member in HA_MEMBERS)
    query = urlencode(
        {
            "sslmode": "verify-full",
            "sslrootcert": str(HA_STATE_DIR / "tls" / "ca.crt"),
            "target_session_attrs": "read-write",
            "connect_timeout": "3",
            **extra,
        }
    )
    secret = quote(ha_password("adx_app"), safe="")
    return f"postgresql://adx_app:{secret}@{hosts}/adx_core?{query}"


PROBE_TABLE = "ha_probe"


def make_probe_table(env: HostsUnderTest, host: str, database: str = "adx_core") -> None:
    psql(
        env,
        host,
        f"DROP TABLE IF EXISTS {PROBE_TABLE}; "
        f"CREATE TABLE {PROBE_TABLE} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "at timestamptz NOT NULL DEFAULT clock_timestamp()); "
        f"GRANT SELECT, INSERT ON {PROBE_TABLE} TO adx_app",
        database,
    )


@dataclass
class Writer:
    """Writes rows through the application pool, one at a time in each of `clients` threads at
    `rate` per second each; records each acknowledged (committed) id and when. With `tenant`,
    through the tenant's connections (`TenantConnections`: the registry's location, every
    member of a dedicated cluster tried for the one that leads)."""

    url: str
    tenant: str | None = None
    rate: float = 20.0
    clients: int = 3
    acked: list[tuple[float, int]] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: Any = None

    def start(self) -> Writer:
        settings = DatabaseSettings.model_validate(
            {
                "DATABASE_URL": self.url,
                "DB_MAX_CONNECTIONS": self.clients,
                "DB_ACQUIRE_TIMEOUT_SECONDS": 5,
            }
        )
        self._pool = make_pool(settings) if self.tenant is None else TenantConnections(settings)
        for _ in range(self.clients):
            thread = threading.Thread(target=self._run, args=(self._pool,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _run(self, pool: Any) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                row = self._write(pool)
                assert row is not None
                with self._lock:
                    self.acked.append((time.monotonic(), int(row[0])))
            except (psycopg.Error, PoolTimeout):
                with self._lock:
                    self.errors += 1
                time.sleep(0.05)
            pause = 1 / self.rate - (time.monotonic() - began)
            if pause > 0:
                time.sleep(pause)

    def _write(self, pool: Any) -> Any:
        insert = f"INSERT INTO {PROBE_TABLE} DEFAULT VALUES RETURNING id"
        if self.tenant is not None:
            # The tenant's transaction: committed when the block ends.
            with pool.connection(self.tenant) as conn:
                return conn.execute(insert).fetchone()
        with pool.connection() as conn:
            row = conn.execute(insert).fetchone()
            conn.commit()
            return row

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._pool.close()

    def acked_after(self, moment: float) -> int:
        return sum(1 for at, _ in self.acked if at > moment)

    def longest_gap(self) -> float:
        times = sorted(at for at, _ in self.acked)
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def rate_before(self, moment: float, window: float = 2.0) -> float:
        return sum(1 for at, _ in self.acked if moment - window < at <= moment) / window


def rows_present(env: HostsUnderTest, host: str, ids: list[int], database: str = "adx_core") -> int:
    """How many of `ids` the member's probe table holds."""
    listed = ",".join(str(int(i)) for i in ids) or "0"
    query = f"SELECT count(*) FROM {PROBE_TABLE} WHERE id IN ({listed})"
    return int(psql(env, host, query, database))


@dataclass(frozen=True)
class Drill:
    """What a drill does to the leader's host, and how the host is given back."""

    name: str
    fault: Callable[[HostsUnderTest, str], None]
    heal: Callable[[HostsUnderTest, str], None]
    # The leader's host stays reachable over SSH (the deploy runs there during the fault).
    reachable: bool
    # Patroni may keep the same leader (it restarts a killed postmaster in place).
    same_leader_allowed: bool = False


def _kill_container(env: HostsUnderTest, host: str) -> None:
    container(env, host).kill()


def start_container(env: HostsUnderTest, host: str) -> None:
    container(env, host).start()
    wait_for(lambda: exec_in(env, host, "true")[0] == 0, 30, f"{host} back")


def _kill_postmaster(env: HostsUnderTest, host: str) -> None:
    code, output = exec_in(
        env, host, "sh", "-c", "kill -9 $(head -n1 /var/lib/postgresql/15/main/postmaster.pid)"
    )
    assert code == 0, output


def _nothing(env: HostsUnderTest, host: str) -> None:
    del env, host  # Patroni starts the postmaster again by itself


def _network_name(env: HostsUnderTest) -> str:
    assert env.env.container_network is not None
    return env.env.container_network.name


def _disconnect(env: HostsUnderTest, host: str) -> None:
    engine_client().networks.get(_network_name(env)).disconnect(container(env, host), force=True)


def _reconnect(env: HostsUnderTest, host: str) -> None:
    network = engine_client().networks.get(_network_name(env))
    network.connect(container(env, host), ipv4_address=env.env.hosts[host].address)
    wait_for(lambda: exec_in(env, host, "true")[0] == 0, 30, f"{host} back")


def _stop_etcd(env: HostsUnderTest, host: str) -> None:
    code, output = exec_in(env, host, "sh", "-c", "kill -STOP $(cat /run/adx-etcd.pid)")
    assert code == 0, output


def _continue_etcd(env: HostsUnderTest, host: str) -> None:
    code, output = exec_in(env, host, "sh", "-c", "kill -CONT $(cat /run/adx-etcd.pid)")
    assert code == 0, output


DRILLS = [
    Drill("docker kill of the leader", _kill_container, start_container, reachable=False),
    Drill(
        "kill -9 of the leader's postmaster",
        _kill_postmaster,
        _nothing,
        reachable=True,
        same_leader_allowed=True,
    ),
    Drill("the leader cut off the network", _disconnect, _reconnect, reachable=False),
    Drill(
        "etcd SIGSTOPped on the leader's host",
        _stop_etcd,
        _continue_etcd,
        reachable=True,
        same_leader_allowed=True,
    ),
]
