"""pyinfra operations of an HA cluster (DESIGN.md decision 8): etcd on its members, Patroni on
the cluster's members (taking over the server Debian's tools made), Patroni's dynamic
configuration, and the guard that sends the deploy's writes to the leader found at run time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from pyinfra import host
from pyinfra.api import OperationError, QuoteString, StringCommand, operation

from adxdb.contract import REPLICATION_ROLE
from adxdb.inventory.types import RestartPolicy
from adxdb.plan.ha import (
    config_differences,
    config_patch,
    removed_parameters,
    reset_overrides_sql,
    restart_handover,
    switchover_candidate,
)
from operations import fact_memo
from operations.facts import (
    HAService,
    PatroniCluster,
    PatroniDynamicConfig,
    PatroniMember,
    PatroniReady,
    PgAutoConfSettings,
    PgInRecovery,
    PgRewindGrants,
)
from operations.psql import run_sql_script
from operations.scripts import inline_script

logger = logging.getLogger("pyinfra.adxdb")  # shown by the pyinfra CLI

READY_SECONDS = 600  # a replica's first copy of the leader (pgBackRest or pg_basebackup)


def on_standby(port: int) -> bool:
    """Whether the deploy's writes are another member's: the local server is a standby, or
    runs no server yet (Patroni is still making this replica; a leader always runs one).
    `member_ready`, at the end of the deploy, fails on a member that does not serve, so a
    leader whose server was down does not pass unnoticed."""
    return fact_memo.read(PgInRecovery, port=port) is not False


@operation()
def etcd_member(endpoint: str, files: Sequence[str]) -> Generator[StringCommand, None, None]:
    """
    Run etcd on this member with its current configuration: (re)started when a file it reads
    at start changed since its last start; waits until the member is healthy (a new cluster
    is, once a quorum of its members runs: they start together).

    + endpoint: host:port of this member's client side
    + files: what etcd reads at start (`/etc/default/etcd`, its TLS files)

    **Example:**

    .. code:: python

        etcd_member(name="etcd", endpoint="10.0.0.10:2379", files=["/etc/default/etcd"])
    """
    state = fact_memo.read(HAService, service="etcd", unit="etcd", files=list(files))
    if state["running"] and not state["stale"]:
        host.noop("etcd runs with its current files")
        return
    yield inline_script("ha_service.sh", "start", "etcd", "etcd", endpoint)


def _wait_ready(rest_url: str, port: int) -> StringCommand:
    return inline_script("ha_member.sh", "wait-ready", rest_url, str(READY_SECONDS), str(port))


@operation()
def patroni_member(
    version: int,
    cluster: str,
    port: int,
    config_file: str,
    unit: str,
    data_dir: str,
    etcd_endpoints: Sequence[str],
    initialize_key: str,
    rest_url: str,
    first_member: bool,
    members: Sequence[str],
    files: Sequence[str],
) -> Generator[StringCommand, None, None]:
    """
    Run this member under Patroni; a member bootstrapping the cluster waits until it leads
    (the writes that follow need a leader). Replicas are waited for at the end of the deploy
    (`member_ready`): they copy the leader once it has the replication role.

    + version, cluster, port: the PostgreSQL cluster (Debian's layout)
    + config_file, unit: Patroni's configuration and service
    + data_dir: the cluster's data folder
    + etcd_endpoints, initialize_key: where etcd holds the cluster's initialize key
    + rest_url: this member's REST API
    + first_member: this member bootstraps a cluster etcd does not know yet, keeping its data
      folder (a converged single host converts in place)
    + members: every member's name (for messages)
    + files: what Patroni reads (a change reloads it; a restart of Patroni would stop
      PostgreSQL)

    A member joining a cluster that exists gives up its data folder only when it is fresh
    (initdb's three databases): one holding data of another cluster is refused, untouched.

    **Example:**

    .. code:: python

        patroni_member(name="Patroni", version=15, cluster="main", port=5432, ...)
    """
    service = fact_memo.read(HAService, service="patroni", unit=unit, files=list(files))
    member = host.get_fact(
        PatroniMember,
        data_dir=data_dir,
        bin_dir=f"/usr/lib/postgresql/{int(version)}/bin",
        endpoints=list(etcd_endpoints),
        key=initialize_key,
        rest_url=rest_url,
    )
    if service["running"]:
        if service["stale"]:
            yield inline_script("ha_service.sh", "reload", "patroni", unit)
            return
        host.noop(f"Patroni runs this member ({(member['member'] or {}).get('state')})")
        return
    initialize = member["initialize"]
    start = inline_script("ha_service.sh", "start", "patroni", unit, config_file)
    if initialize == "unreachable":
        raise OperationError(
            f"etcd does not answer at {', '.join(etcd_endpoints)}: Patroni cannot start "
            "without a quorum of etcd's members"
        )
    stop = inline_script("ha_member.sh", "stop", str(int(version)), cluster)
    wipe = inline_script("ha_member.sh", "wipe", str(int(version)), cluster, data_dir)
    if initialize is not None:
        if member["empty"] or member["sysid"] == initialize:
            yield stop
        elif member["fresh"]:
            logger.warning(
                "%sa fresh cluster's data folder gives way to a copy of the leader's",
                host.print_prefix,
            )
            yield wipe
        else:
            raise OperationError(
                f"{data_dir} holds databases of another cluster (system identifier "
                f"{member['sysid']}, the cluster's is {initialize}): move it away by hand, or "
                "take this host out of group 'main'; nothing was changed"
            )
    elif first_member:
        yield stop  # Patroni adopts the data folder as it is: no dump, no restore
        yield start
        yield _wait_ready(rest_url, port)
        return
    elif not member["fresh"] and not member["empty"]:
        raise OperationError(
            f"{data_dir} holds databases, but the first member of group 'main' "
            f"({members[0]}) bootstraps the cluster: list this host first to keep its data; "
            "nothing was changed"
        )
    else:
        if not member["empty"]:
            yield wipe
        urls = ",".join(f"https://{endpoint}" for endpoint in etcd_endpoints)
        yield inline_script("ha_member.sh", "wait-initialized", urls, initialize_key)
    yield start


@operation()
def member_ready(rest_url: str, port: int) -> Generator[StringCommand, None, None]:
    """
    Wait until Patroni runs this member as it should: the leader writable, a replica streaming
    from it (its first copy of the leader may take a while: pgBackRest or pg_basebackup). In
    synchronous mode a leader with a replica running is ready once Patroni has named its
    synchronous standby: until then a lost leader could not fail over.

    + rest_url: this member's REST API
    + port: the cluster's port

    **Example:**

    .. code:: python

        member_ready(name="Member streaming", rest_url="https://10.0.0.10:8008", port=5432)
    """
    state = host.get_fact(PatroniReady, rest_url=rest_url, port=port)
    leads = state.get("role") == "master" and not state.get("no_synchronous_standby")
    if state.get("state") == "running" and (leads or state.get("receiver") == "streaming"):
        host.noop(f"Patroni runs this member ({state['role']})")
        return
    yield _wait_ready(rest_url, port)


@operation()
def dynamic_config(
    rest_url: str,
    ca_file: str,
    config_file: str,
    wanted: Mapping[str, Any],
    port: int,
) -> Generator[StringCommand, None, None]:
    """
    Keep Patroni's dynamic configuration (settings, pg_hba, timings) as the inventory says,
    compared with `GET /config`; changed on the leader with `patronictl edit-config`.

    + rest_url: this member's REST API
    + ca_file: the environment's CA
    + config_file: Patroni's configuration (patronictl reads etcd's address and TLS there)
    + wanted: `adxdb.plan.ha.dynamic_config`
    + port: the cluster's port

    **Example:**

    .. code:: python

        dynamic_config(name="Patroni dynamic configuration", rest_url="https://10.0.0.10:8008",
                       ca_file="/etc/patroni/tls/ca.crt", config_file="/etc/patroni/15-main.yml",
                       wanted=plan.ha.dynamic_config, port=5432)
    """
    if on_standby(port):
        host.noop("dynamic configuration: set on the leader")
        return
    current = host.get_fact(PatroniDynamicConfig, rest_url=rest_url, ca_file=ca_file)
    if current is None:
        raise OperationError(f"cannot read Patroni's dynamic configuration at {rest_url}/config")
    changed = config_differences(wanted, current)
    removed = removed_parameters(wanted, current)
    if not changed and not removed:
        host.noop("dynamic configuration is converged")
        return
    logger.warning(
        "%sPatroni's dynamic configuration changes: %s",
        host.print_prefix,
        ", ".join([*changed, *(f"{name} (removed)" for name in removed)]),
    )
    patch = json.dumps(config_patch(wanted, current), sort_keys=True)
    yield StringCommand(
        "printf",
        "%s",
        QuoteString(patch),
        "|",
        "runuser",
        "-u",
        "postgres",
        "--",
        "patronictl",
        "-c",
        QuoteString(config_file),
        "edit-config",
        "--apply",
        "-",
        "--force",
        ">/dev/null",
        "&&",
        # Members apply it on their next cycle: wait two, so that a restart it needs is
        # pending (Patroni's `pending_restart`) when the rolling restart looks.
        "sleep",
        str(2 * int(wanted.get("loop_wait", 10)) + 1),
    )


@operation()
def rewind_grants(port: int) -> Generator[Any, None, None]:
    """
    Let adx_replication run what pg_rewind reads on the leader (its files), so that a failed
    leader rejoins by rewinding, not by a new copy. Set on the leader; replicas follow.

    + port: the cluster's port

    **Example:**

    .. code:: python

        rewind_grants(name="pg_rewind grants", port=5432)
    """
    if on_standby(port):
        host.noop("pg_rewind grants: set on the leader")
        return
    missing = fact_memo.read(PgRewindGrants, port=port)
    if missing is None:
        raise OperationError(f"cannot read grants: no PostgreSQL server answers on port {port}")
    if not missing:
        host.noop(f"{REPLICATION_ROLE} may run pg_rewind")
        return
    # Signatures from the fact's fixed list (sql/facts/rewind_grants.sql), not input.
    script = "".join(
        f"GRANT EXECUTE ON FUNCTION {name} TO {REPLICATION_ROLE};\n" for name in missing
    )
    yield from run_sql_script(port, "postgres", script, "rewind-grants")


@operation()
def no_local_overrides(
    port: int,
    names: Sequence[str],
    member: str,
    rest_url: str,
    config_file: str,
    scope: str,
    policy: RestartPolicy,
) -> Generator[Any, None, None]:
    """
    Keep this member on the cluster's settings: a setting of the dynamic configuration that
    this member's `postgresql.auto.conf` overrides (an `ALTER SYSTEM`, or `archive_mode = off`
    left by a restore) is reset there and the member restarted (a standby at once; the leader
    in place), so that it archives once it leads. Under restart policy `never` it reports.

    + port: the cluster's port
    + names: the parameters of the dynamic configuration
    + member, rest_url, config_file, scope: this member, its REST API, Patroni's configuration
      and the cluster's name
    + policy: `auto` restarts, `never` reports

    **Example:**

    .. code:: python

        no_local_overrides(name="No local overrides", port=5432, names=["archive_mode"],
                           member="pg2", rest_url="https://10.0.0.11:8008",
                           config_file="/etc/patroni/15-main.yml", scope="adx-prod-adx",
                           policy="auto")
    """
    found = fact_memo.read(PgAutoConfSettings, port=port)
    if found is None:
        raise OperationError(f"cannot read settings: no PostgreSQL server answers on port {port}")
    overridden = sorted(set(found) & set(names))
    if not overridden:
        host.noop("no setting of the dynamic configuration is overridden on this member")
        return
    if policy == "never":
        logger.warning(
            "%sRESTART PENDING: postgresql.auto.conf overrides the dynamic configuration: %s "
            "(a reset and a restart under restart policy auto)",
            host.print_prefix,
            ", ".join(overridden),
        )
        host.noop(f"overridden here: {', '.join(overridden)} (restart policy: never)")
        return
    logger.warning(
        "%spostgresql.auto.conf overrides the dynamic configuration: %s (reset, restart)",
        host.print_prefix,
        ", ".join(overridden),
    )
    yield from run_sql_script(port, "postgres", reset_overrides_sql(overridden), "auto-conf-reset")
    yield StringCommand(
        "runuser", "-u", "postgres", "--", "patronictl", "-c", QuoteString(config_file),
        "restart", QuoteString(scope), QuoteString(member), "--force",
    )  # fmt: skip
    yield _wait_ready(rest_url, port)


@operation()
def switchover(
    config_file: str, port: int, to: str | None = None, synchronous_mode: bool = True
) -> Generator[StringCommand, None, None]:
    """
    Hand the leader's role to another member (`adxdb switchover`): `to`, else the synchronous
    standby; Patroni stops the old leader's writes, the candidate catches up and is promoted,
    the old leader follows it. Waits until the candidate leads.

    + config_file: Patroni's configuration
    + port: the cluster's port
    + to: the member to lead; None: the synchronous standby
    + synchronous_mode: the cluster's `ha.synchronous_mode` (then only the synchronous
      standby may lead next)

    **Example:**

    .. code:: python

        switchover(name="Switchover", config_file="/etc/patroni/15-main.yml", port=5432)
    """
    cluster = host.get_fact(PatroniCluster, port=port)
    if cluster is None or not cluster.get("members"):
        raise OperationError("Patroni does not answer on this member: no switchover")
    try:
        leader, candidate = switchover_candidate(cluster["members"], to, synchronous_mode)
    except ValueError as error:
        raise OperationError(str(error)) from None
    if candidate is None:
        host.noop(f"{leader} leads already")
        return
    logger.warning("%sswitchover: %s hands over to %s", host.print_prefix, leader, candidate)
    yield StringCommand(
        "runuser", "-u", "postgres", "--", "patronictl", "-c", QuoteString(config_file),
        "switchover", "--leader", QuoteString(leader), "--candidate", QuoteString(candidate),
        "--force",
    )  # fmt: skip
    # In synchronous mode, until its synchronous standby is named, a lost new leader could not
    # fail over: the job ends once one is.
    sync = ("sync",) if synchronous_mode else ()
    yield inline_script("ha_member.sh", "wait-leader", config_file, candidate, *sync)


@operation()
def rolling_restart(
    role: str,
    member: str,
    rest_url: str,
    port: int,
    config_file: str,
    scope: str,
    policy: RestartPolicy,
    synchronous_mode: bool = True,
    after_leader: bool = False,
) -> Generator[StringCommand, None, None]:
    """
    Apply settings that wait for a restart (Patroni's `pending_restart`), member by member:
    called for the replicas (`role="replica"`, one host at a time: `_serial`), then for the
    leader (`role="leader"`), then for the replicas still waiting (`after_leader=True`). The
    leader first hands its role to a synchronous standby that needs no restart itself, so the
    cluster changes leader at most once; when none is (a lowered `max_connections`: standbys
    keep the primary's value until it restarts), the leader restarts in place and the
    standbys follow. Under restart policy `never` it reports only.

    + role: which members this call restarts: "replica" or "leader"
    + member: this member's name
    + rest_url: this member's REST API
    + port: the cluster's port
    + config_file: Patroni's configuration
    + scope: the Patroni cluster's name
    + policy: `auto` restarts, `never` reports
    + synchronous_mode: the cluster's `ha.synchronous_mode`
    + after_leader: the pass after the leader's restart (replicas; reported once, before)

    **Example:**

    .. code:: python

        rolling_restart(name="Restart replicas", role="replica", member="pg2",
                        rest_url="https://10.0.0.11:8008", port=5432,
                        config_file="/etc/patroni/15-main.yml", scope="adx-prod-adx",
                        policy="auto", _serial=True)
    """
    state = host.get_fact(PatroniReady, rest_url=rest_url, port=port)
    is_leader = state.get("role") == "master"
    if is_leader != (role == "leader"):
        host.noop(f"restart: this member is not the {role}")
        return
    if not state.get("pending_restart"):
        host.noop("no restart pending")
        return
    if policy == "never":
        if not after_leader:
            logger.warning(
                "%sRESTART PENDING: a setting waits for a restart (restart policy: never)",
                host.print_prefix,
            )
        host.noop("restart pending (restart policy: never)")
        return
    ctl = ("runuser", "-u", "postgres", "--", "patronictl", "-c", QuoteString(config_file))
    if is_leader:
        cluster = host.get_fact(PatroniCluster, port=port)
        try:
            leader, candidate = restart_handover(
                (cluster or {}).get("members") or [], synchronous_mode
            )
        except ValueError as error:
            raise OperationError(f"rolling restart: {error}") from None
        if candidate is None:
            logger.warning(
                "%sRESTART: the leader restarts in place (every standby that could lead "
                "waits for a restart too: they take the setting after the leader)",
                host.print_prefix,
            )
        else:
            logger.warning(
                "%sRESTART: %s hands over to %s, then restarts",
                host.print_prefix,
                leader,
                candidate,
            )
            yield StringCommand(
                *ctl, "switchover", "--leader", QuoteString(leader),
                "--candidate", QuoteString(candidate), "--force",
            )  # fmt: skip
            yield inline_script("ha_member.sh", "wait-leader", config_file, candidate)
    else:
        logger.warning("%sRESTART: a replica restarts (restart policy: auto)", host.print_prefix)
    if after_leader:
        # The leader's new value reaches a standby's control file once it replays the
        # leader's parameter-change record: a restart before that keeps the old value.
        yield inline_script(
            "ha_member.sh", "restart-pending", config_file, scope, member, rest_url,
            str(READY_SECONDS), str(port),
        )  # fmt: skip
        return
    yield StringCommand(
        *ctl, "restart", QuoteString(scope), QuoteString(member), "--force", "--pending"
    )
    yield _wait_ready(rest_url, port)
