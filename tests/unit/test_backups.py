"""pgBackRest: which stanza each cluster has, the files rendered for a database host and for
the backup host, and the backup operations (facts in, commands out)."""

from __future__ import annotations

from typing import Any

import pytest
from pyinfra.api import OperationError

from adxdb.inventory.model import Backups, Environment
from adxdb.plan import backups as plan
from adxdb.plan.backups import INFO_FAILED
from adxdb.plan.config import ClusterPaths, owned_settings
from operations import backups as ops
from operations import facts
from tests.unit.conftest import OperationRun, run_operation

PATHS = ClusterPaths(15, "main")
NOW = 1_764_700_000
CNS = {"pg1": "pg1", "tenant1": "tenant1", "backup1": "backup1"}


def environment(backup_host: bool = True, **backups: Any) -> Environment:
    hosts: dict[str, Any] = {
        "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
        "tenant1": {
            "address": "10.0.0.11",
            "ssh": {"hostname": "10.0.0.11"},
            "groups": ["tenant_hosts"],
        },
    }
    if backup_host:
        hosts["backup1"] = {
            "address": "10.0.0.12",
            "ssh": {"hostname": "10.0.0.12"},
            "groups": ["backup"],
        }
    return Environment.model_validate(
        {
            "name": "test" if backup_host else "local",
            "tls": {"mode": "generate"},
            "hosts": hosts,
            "backups": backups,
        }
    )


def test_each_cluster_has_a_stanza_the_main_one_named_by_the_inventory() -> None:
    env = environment(stanza="core")
    assert [(s.name, s.hosts) for s in plan.stanzas(env)] == [
        ("core", ("pg1",)),
        ("tenant1", ("tenant1",)),
    ]
    assert owned_settings(env, PATHS, plan.stanza_of(env, "tenant1"))["archive_command"] == (
        "pgbackrest --stanza=tenant1 archive-push %p"
    )


def test_a_database_host_pushes_to_the_backup_host_over_tls() -> None:
    text = plan.render_database_host_config(environment(), "tenant1", PATHS, CNS)
    assert "repo1-host=10.0.0.12\nrepo1-host-type=tls\nrepo1-host-port=8432\n" in text
    assert "repo1-host-cert-file=/etc/pgbackrest/tls/host.crt\n" in text
    assert "repo1-path" not in text  # no repository on a database host
    # Only the backup host's certificate may reach this host's cluster, for its stanza only.
    assert [line for line in text.splitlines() if line.startswith("tls-server-auth")] == [
        "tls-server-auth=backup1=tenant1"
    ]
    assert "[tenant1]\npg1-path=/var/lib/postgresql/15/main\npg1-port=5432\n" in text


def test_the_backup_host_holds_the_repository_and_reaches_every_cluster() -> None:
    env = environment(retention_full=14, retention_full_type="time", retention_diff=6)
    text = plan.render_repository_config(env, PATHS, CNS)
    assert "repo1-path=/var/lib/pgbackrest\n" in text
    assert "repo1-retention-full=14\nrepo1-retention-full-type=time\n" in text
    assert "repo1-retention-diff=6\n" in text
    # Each database host's certificate may push to its own cluster's stanza, and no other.
    assert [line for line in text.splitlines() if line.startswith("tls-server-auth")] == [
        "tls-server-auth=pg1=adx",
        "tls-server-auth=tenant1=tenant1",
    ]
    assert "[adx]\npg1-host=10.0.0.10\npg1-host-type=tls\n" in text
    assert "[tenant1]\npg1-host=10.0.0.11\npg1-host-type=tls\n" in text


def test_the_schedule_backs_up_every_stanza_from_the_backup_host() -> None:
    backups = Backups(full_schedule="0 2 * * 0", diff_schedule="0 2 * * 1-6")
    text = plan.render_schedule(backups, ["adx", "tenant1"])
    assert "0 2 * * 0 postgres pgbackrest --stanza=adx --type=full backup\n" in text
    assert "0 2 * * 1-6 postgres pgbackrest --stanza=tenant1 --type=diff backup\n" in text


def test_who_takes_the_backups() -> None:
    env = environment()
    backup_host = plan.backup_plan(env, "backup1")
    database_host = plan.backup_plan(env, "tenant1")
    assert backup_host is not None and database_host is not None
    assert (backup_host.stanza, backup_host.repository_stanzas) == (None, ("adx", "tenant1"))
    assert (database_host.stanza, database_host.repository_stanzas) == ("tenant1", ())
    assert database_host.server and not database_host.local_repository
    local = plan.backup_plan(environment(backup_host=False), "pg1")
    assert local is not None
    assert (local.stanza, local.repository_stanzas, local.server) == ("adx", ("adx",), False)


def test_local_keeps_its_repository_on_the_database_host() -> None:
    text = plan.render_local_config(
        Backups(retention_full=3, repo_path="/srv/b"), "adx", PATHS, 5433
    )
    assert "repo1-path=/srv/b\nrepo1-retention-full=3\n" in text
    assert "repo1-host" not in text and "tls-server" not in text
    assert "[adx]\npg1-path=/var/lib/postgresql/15/main\npg1-port=5433\n" in text


def test_a_schedule_that_is_not_five_cron_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="full_schedule"):
        Backups(full_schedule="every sunday")


# The stanza operation (a database host) -------------------------------------------------


def _run(state: Any, local: bool = True) -> tuple[list[str], OperationRun]:
    facts_in = {"facts.PgBackRestState": {"port=5432, stanza=adx": state}}
    run = run_operation(
        ops.stanza, facts_in, stanza="adx", port=5432, local_repository=local,
        max_age="26h", max_age_seconds=93600,
    )  # fmt: skip
    return [str(c.get_raw_value()) for c in run.commands], run


def _entry(code: int, backups: int = 0, age: int = 3600, message: str = "m") -> dict[str, Any]:
    last = {"label": "20261202-000000F", "type": "full", "stop": NOW - age} if backups else None
    return {"status": {"code": code, "message": message}, "backups": backups, "last_backup": last}


def _state(code: int, backups: int = 0, archive_mode: str = "on", **kw: Any) -> dict[str, Any]:
    return {"archive_mode": archive_mode, "now": NOW, **_entry(code, backups, **kw)}


def test_a_stanza_with_fresh_backups_is_a_noop() -> None:
    commands, run = _run(_state(0, backups=2))
    assert commands == []
    assert run.noop_description == "stanza adx holds 2 backup(s)"


def test_a_local_stanza_whose_last_backup_is_too_old_fails_naming_it() -> None:
    with pytest.raises(
        OperationError, match=r"stanza adx: its last backup .* older than backups.max_age 26h"
    ):
        _run(_state(0, backups=2, age=93601))


def test_a_missing_local_stanza_is_created_checked_and_backed_up() -> None:
    commands, _ = _run(_state(1))
    assert commands == [
        "runuser -u postgres -- pgbackrest --stanza=adx stanza-create",
        "runuser -u postgres -- pgbackrest --stanza=adx check",
        "runuser -u postgres -- pgbackrest --stanza=adx --type=full backup",
    ]


def test_a_database_host_leaves_the_backups_to_the_backup_host() -> None:
    commands, _ = _run(_state(1), local=False)
    assert commands == [
        "runuser -u postgres -- pgbackrest --stanza=adx stanza-create",
        "runuser -u postgres -- pgbackrest --stanza=adx check",
    ]


def test_a_stanza_without_a_valid_backup_gets_one() -> None:
    commands, _ = _run(_state(2))
    assert commands[-1] == "runuser -u postgres -- pgbackrest --stanza=adx --type=full backup"
    assert not any("stanza-create" in command for command in commands)


def test_without_archiving_the_stanza_waits_for_the_restart() -> None:
    commands, run = _run(_state(1, archive_mode="off"))
    assert commands == []
    assert run.noop_description == "stanza adx waits for archive_mode = on"


def test_another_status_is_an_error_that_names_it() -> None:
    with pytest.raises(OperationError, match=r"stanza adx: pgBackRest reports status 4 \(m\)"):
        _run(_state(4))


def test_an_unreachable_repository_is_an_error_that_names_the_stanza() -> None:
    with pytest.raises(OperationError, match=r"stanza adx: pgbackrest info cannot read .*refused"):
        _run(
            _state(INFO_FAILED, message="ERROR: [049]: unable to connect: refused"),
            local=False,
        )


# The repository operation (the backup host) -----------------------------------------------


def _repository(
    stanzas: dict[str, Any], drills: dict[str, Any] | None = None
) -> tuple[list[str], OperationRun]:
    facts_in = {
        "facts.PgBackRestRepository": {"now": NOW, "stanzas": stanzas},
        "facts.RestoreDrillResults": {"now": NOW, "results": drills or {}},
        "facts.ArchivedSegments": {"repo_path=/var/lib/pgbackrest": {}},
    }
    run = run_operation(
        ops.repository, facts_in, stanzas=["adx", "tenant1"], max_age="26h",
        max_age_seconds=93600, drill_max_age="8d", repo_path="/var/lib/pgbackrest",
    )  # fmt: skip
    return [str(c.get_raw_value()) for c in run.commands], run


def test_fresh_stanzas_are_a_noop() -> None:
    commands, run = _repository({"adx": _entry(0, 2), "tenant1": _entry(0, 1)})
    assert commands == []
    assert run.noop_description == "backups are fresh: adx (2), tenant1 (1)"


def test_a_stanza_without_a_backup_gets_its_first_full_one() -> None:
    commands, _ = _repository({"adx": _entry(2), "tenant1": _entry(0, 1)})
    assert commands == ["runuser -u postgres -- pgbackrest --stanza=adx --type=full backup"]


def test_every_stale_or_broken_stanza_is_named_one_line_each() -> None:
    with pytest.raises(OperationError) as raised:
        _repository({"adx": _entry(0, 2, age=200_000)})  # tenant1 is missing
    lines = str(raised.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("stanza adx: its last backup (20261202-000000F, full) finished")
    assert "55 h 33 min ago" in lines[0]
    assert lines[1].startswith("stanza tenant1: does not exist")


def test_info_that_cannot_answer_names_every_stanza() -> None:
    failed = {"": _entry(INFO_FAILED, message="ERROR: [041]: unable to open file")}
    with pytest.raises(OperationError, match=r"(?s)stanza adx: .*\[041\].*stanza tenant1: "):
        _repository(failed)


# Facts ------------------------------------------------------------------------------------

INFO = (
    '[{"name": "adx", "status": {"code": 0, "message": "ok"}, "backup": ['
    '{"label": "A", "type": "full", "timestamp": {"start": 1, "stop": 2}},'
    '{"label": "B", "type": "diff", "timestamp": {"start": 3, "stop": 4}}]}]'
)


def test_state_fact_reads_archive_mode_the_clock_and_the_stanza() -> None:
    fact = facts.PgBackRestState()
    assert fact.process(["archive_mode=on", str(NOW), "ok", INFO]) == {
        "archive_mode": "on",
        "now": NOW,
        "status": {"code": 0, "message": "ok"},
        "backups": 2,
        "first_backup": {"label": "A", "type": "full", "stop": 2, "wal_start": ""},
        "last_backup": {"label": "B", "type": "diff", "stop": 4, "wal_start": ""},
        "backup_list": [
            {"label": "A", "type": "full", "start": 1, "stop": 2},
            {"label": "B", "type": "diff", "start": 3, "stop": 4},
        ],
    }
    assert fact.process(["null"]) is None


def test_an_info_that_fails_reads_as_its_last_error_line() -> None:
    state = facts.PgBackRestState().process(
        ["archive_mode=on", str(NOW), "error", "WARN: x", "ERROR: [049]: refused", ""]
    )
    assert state is not None
    assert state["status"] == {"code": INFO_FAILED, "message": "ERROR: [049]: refused"}


def test_repository_fact_reads_every_stanza() -> None:
    found = facts.PgBackRestRepository().process([str(NOW), "ok", INFO])
    assert found["now"] == NOW
    assert found["stanzas"]["adx"]["last_backup"]["label"] == "B"


def test_server_fact_reads_the_script_state() -> None:
    state = facts.PgBackRestServer().process(['{"systemd": false, "running": true, "stale": true}'])
    assert state == {"systemd": False, "running": True, "stale": True}


def test_a_stale_or_stopped_server_is_started_and_a_current_one_kept() -> None:
    files = list(plan.SERVER_FILES)
    key = f"files={files!r}, port=8432"
    for running, stale, started in ((True, False, False), (True, True, True), (False, False, True)):
        state = {"systemd": False, "running": running, "stale": stale}
        run = run_operation(
            ops.tls_server, {"facts.PgBackRestServer": {key: state}}, port=8432, files=files
        )
        assert bool(run.commands) == started, (running, stale)


def test_other_error_reads_as_the_repositorys_own_message() -> None:
    info = (
        '[{"name": "adx", "backup": [], "repo": [{"key": 1, "status": {"code": 99, "message": '
        "\"[HostConnectError] unable to connect to '10.0.0.12:8432'\"}}], "
        '"status": {"code": 99, "message": "other"}}]'
    )
    state = facts.PgBackRestState().process(["archive_mode=on", str(NOW), "ok", info])
    assert state is not None
    assert state["status"]["message"] == "[HostConnectError] unable to connect to '10.0.0.12:8432'"
    with pytest.raises(OperationError, match=r"stanza adx: .*cannot read the repository: \[Host"):
        _run(state, local=False)


def test_rendered_files_do_not_depend_on_the_order_of_the_hosts() -> None:
    from adxdb.plan.config import render_hba

    env = environment()
    data = env.model_dump(mode="json")
    data["hosts"] = dict(reversed(list(data["hosts"].items())))
    reordered = Environment.model_validate(data)
    assert list(reordered.hosts) != list(env.hosts)
    assert render_hba(reordered) == render_hba(env)
    assert plan.render_repository_config(reordered, PATHS, CNS) == plan.render_repository_config(
        env, PATHS, CNS
    )


def test_the_archive_is_whole_or_its_gap_after_the_last_backup_is_found() -> None:
    names = [
        "000000010000000000000003-a.zst",
        "000000010000000000000004-b.zst",
        "00000001000000000000000A-c.zst",
        "00000002.history",
        "00000001000000000000000B.partial-d.zst",
        "00000002000000000000000B-e.zst",  # the next timeline goes on from there
    ]
    assert plan.archive_gap(names, "000000010000000000000004") == (5, 9)
    assert plan.segment_name(9) == "000000010000000000000009"
    assert plan.archive_gap(names, "00000001000000000000000A") is None
    assert plan.archive_gap(names[:2], "000000010000000000000003") is None
    assert plan.archive_gap([], "000000010000000000000003") is None
    assert plan.archive_gap(names, "") is None  # a backup without its WAL range


def test_an_ha_clusters_backups_come_from_a_standby_else_the_leader() -> None:
    backups = Backups(full_schedule="0 2 * * 0", diff_schedule="0 2 * * 1-6")
    text = plan.render_schedule(backups, ["adx", "tenant1"], ("adx",))
    assert (
        "0 2 * * 0 postgres pgbackrest --stanza=adx --type=full --backup-standby=y backup"
        " || pgbackrest --stanza=adx --type=full --no-backup-standby backup\n"
    ) in text
    # Negative twin: a single-host cluster has no standby to take it from.
    assert "0 2 * * 1-6 postgres pgbackrest --stanza=tenant1 --type=diff backup\n" in text
    assert plan.standby_stanzas(environment()) == ()
