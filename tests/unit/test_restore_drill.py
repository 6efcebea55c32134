"""Restore drills: which stanzas and target a drill covers, the ledger each restored database
must hold, the verification SQL, how recorded drills read in the health check, and the CLI's
refusals before any host is touched."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from adxdb import cli
from adxdb.errors import AdxError
from adxdb.inventory.loader import load_inventory
from adxdb.plan import backups as plan
from adxdb.plan import drill, restore
from tests.unit.test_backups import NOW, environment
from tests.unit.test_inventory import TENANT, base, write

TENANTS = [
    {**TENANT, "slug": "acme"},
    {
        "slug": "globex",
        "id": "0c9d1b8e-2f4a-4e57-8d0e-5a6b7c8d9e10",
        "name": "Globex",
        "isolation": "schema",
    },
    {
        "slug": "initech",
        "id": "0c9d1b8e-2f4a-4e57-8d0e-5a6b7c8d9e11",
        "name": "Initech",
        "isolation": "database",
        "host": "tenant1",
    },
]


def _inventory(tmp_path: Path, **changes: Any) -> Path:
    data = base(
        hosts={
            "pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}},
            "tenant1": {
                "address": "10.0.0.11",
                "ssh": {"hostname": "10.0.0.11"},
                "groups": ["tenant_hosts"],
            },
            "backup1": {
                "address": "10.0.0.12",
                "ssh": {"hostname": "10.0.0.12"},
                "groups": ["backup"],
            },
        },
        tenants=TENANTS,
        **changes,
    )
    return write(tmp_path, data)


def test_a_target_needs_a_zone_and_reads_as_utc() -> None:
    when = drill.parse_target("2026-12-02T21:15:00+01:00")
    assert drill.target_text(when) == "2026-12-02 20:15:00.000000+00"
    assert drill.target_text(drill.parse_target("2026-12-02T20:15:00Z")).startswith(
        "2026-12-02 20:15:00"
    )
    with pytest.raises(AdxError, match="give its time zone"):
        drill.parse_target("2026-12-02T20:15:00")
    with pytest.raises(AdxError, match="not a time"):
        drill.parse_target("yesterday")


def test_a_request_names_known_clusters_only_and_defaults_to_every_one() -> None:
    env = environment()
    assert drill.check_request(env, [], None).stanzas == ("adx", "tenant1")
    assert drill.check_request(env, ["tenant1"], "2026-12-02T20:15:00Z").at == (
        "2026-12-02T20:15:00+00:00"
    )
    with pytest.raises(AdxError) as refused:
        drill.check_request(env, ["nope"], "soon")
    assert refused.value.problems == [
        "--cluster nope: no such cluster; the clusters' stanzas are adx, tenant1",
        "--at 'soon': not a time; give ISO 8601 with a zone, e.g. 2026-12-02T20:15:00Z",
    ]
    with pytest.raises(AdxError, match=r"backups\.enabled is false"):
        drill.check_request(environment(enabled=False), [], None)


def test_the_drill_runs_where_the_repository_is() -> None:
    assert drill.repository_host(environment()) == "backup1"
    assert drill.repository_host(environment(backup_host=False)) == "pg1"
    assert drill.repository_host(environment(enabled=False)) is None


def test_each_stanza_verifies_the_databases_and_targets_of_its_cluster(tmp_path: Path) -> None:
    inventory = load_inventory(_inventory(tmp_path))
    files = inventory.migration_files
    main = drill.expected_ledger(inventory.env, files, "adx")
    assert sorted(main) == ["adx_core"]
    schemas = {row[1] for row in main["adx_core"]}
    assert schemas == {"public", "tenant_globex"}
    tenant_files = [f for f in files if f.stream == "tenant"]
    assert len(main["adx_core"]) == len(files) + len(tenant_files)
    dedicated = drill.expected_ledger(inventory.env, files, "tenant1")
    assert sorted(dedicated) == ["adx_tenant_initech"]
    assert {(r[0], r[2], r[4]) for r in dedicated["adx_tenant_initech"]} == {
        (f.stream, f.version, f.checksum) for f in files
    }

    planned = drill.drill_plan(inventory, "backup1", drill.DrillRequest(("tenant1",), None))
    assert [(d.stanza, d.target, d.databases) for d in planned.drills] == [
        ("tenant1", "latest", ("adx_tenant_initech",))
    ]
    assert [f.dest for f in planned.files] == [
        "/var/lib/adx-drill/verify/tenant1/adx_tenant_initech.sql"
    ]
    assert drill.drill_plan(inventory, "pg1", drill.DrillRequest()) == drill.DrillPlan((), ())


def test_a_drill_at_a_time_carries_the_target_in_utc_and_in_seconds(tmp_path: Path) -> None:
    inventory = load_inventory(_inventory(tmp_path))
    request = drill.DrillRequest(("adx",), "2026-12-02T20:15:00+00:00")
    [planned] = drill.drill_plan(inventory, "backup1", request).drills
    assert planned.target == "2026-12-02 20:15:00.000000+00"
    assert planned.target_epoch == 1796242500


def test_the_verification_quotes_every_expected_value() -> None:
    text = drill.render_verify([("tenant", "public", 7, "it's", "abc")])
    assert "VALUES ('tenant', 'public', 7, 'it''s', 'abc')" in text
    assert "bt_index_check(index_oid, true)" in text
    assert "'{}'::json" in text  # the template's braces survive the composition
    empty = drill.render_verify([])
    assert "VALUES (NULL::text, NULL::text, NULL::integer, NULL::text, NULL::text)" in empty


VERIFIED = {
    "verdict": "verified",
    "finished": NOW - 3600,
    "backup_set": "20261202-000000F",
    "target": "latest",
    "duration_seconds": 41,
    "databases": [{"tables": {"a": 1, "b": 2}, "indexes_checked": 9}],
    "problems": [],
}


def test_drill_health_is_ok_recent_warning_old_or_missing_critical_failed() -> None:
    rows = drill.drill_health(
        ["adx", "tenant1", "t2", "t3"],
        "8d",
        NOW,
        {
            "adx.last": VERIFIED,
            "adx.verified": VERIFIED,
            "t2.last": {**VERIFIED, "finished": NOW - 9 * 86400},
            "t2.verified": {**VERIFIED, "finished": NOW - 9 * 86400},
            "t3.last": {**VERIFIED, "verdict": "failed", "problems": ["index x: corrupt"]},
            "t3.verified": VERIFIED,
        },
    )
    statuses = {name: (status, detail) for name, status, detail in rows}
    assert statuses["restore_drill:adx"][0] == "ok"
    assert (
        "backup set 20261202-000000F, target latest, 41 s, 1 database(s), 2 tables, 9 "
        in (statuses["restore_drill:adx"][1])
    )
    assert statuses["restore_drill:tenant1"][0] == "warning"
    assert "no verified restore yet" in statuses["restore_drill:tenant1"][1]
    assert statuses["restore_drill:t2"][0] == "warning"
    assert "older than backups.drill_max_age 8d" in statuses["restore_drill:t2"][1]
    assert statuses["restore_drill:t3"] == (
        "critical",
        "the last restore drill (2025-12-02 17:26 UTC) failed: index x: corrupt",
    )


def test_backup_health_is_critical_for_a_stale_or_broken_stanza() -> None:
    env = environment()
    fresh: dict[str, Any] = {
        "status": {"code": 0, "message": "ok"},
        "backups": 2,
        "last_backup": {"label": "L", "type": "full", "stop": NOW - 60},
    }
    rows = plan.backup_health(env, {"now": NOW, "stanzas": {"adx": fresh}})
    assert rows[0][:2] == ("backups:adx", "ok") and "2 backup(s); last L (full)" in rows[0][2]
    assert rows[1] == (
        "backups:tenant1",
        "critical",
        "stanza tenant1: does not exist: its cluster's deploy creates it once archive_mode is "
        "on (is a restart pending?)",
    )
    stale = {**fresh, "last_backup": {**fresh["last_backup"], "stop": NOW - 200_000}}
    [adx, _] = plan.backup_health(env, {"now": NOW, "stanzas": {"adx": stale}})
    assert adx[1] == "critical" and "older than backups.max_age 26h" in adx[2]


def test_the_drill_command_refuses_a_bad_request_before_any_host_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    path = _inventory(tmp_path)
    assert cli.main(["restore-drill", str(path), "--cluster", "nope", "--at", "2026-12-02"]) == 2
    err = capsys.readouterr().err
    assert "error: --cluster nope: no such cluster" in err
    assert "error: --at '2026-12-02': give its time zone" in err
    assert calls == []


def test_the_drill_command_runs_the_drill_deploy_on_the_repository_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    path = _inventory(tmp_path)
    path.with_suffix(".py").write_text("")
    assert cli.main(["restore-drill", str(path), "--cluster", "adx", "-v"]) == 0
    [command] = calls
    assert command[1:7] == [
        "-y",
        "--limit",
        "backup1",
        "--data",
        'adx_drill={"stanzas": ["adx"], "at": null}',
        "-v",
    ]
    assert command[-1].endswith("/drill.py")


def test_a_restore_names_one_known_cluster_and_goes_onto_its_declared_host() -> None:
    env = environment()
    with pytest.raises(AdxError) as refused:
        restore.check_restore(env, None, None)
    assert refused.value.problems == ["--cluster is required: the cluster's stanza (adx, tenant1)"]
    with pytest.raises(AdxError, match="--cluster nope: no such cluster"):
        restore.check_restore(env, "nope", None)
    request = restore.check_restore(env, "tenant1", "2026-12-02T20:15:00Z")
    assert request == restore.RestoreRequest("tenant1", "2026-12-02T20:15:00+00:00")
    assert restore.restore_host(env, "tenant1") == "tenant1"
    assert restore.restore_host(env, "adx") == "pg1"
    planned = restore.restore_plan(env, "tenant1", request)
    assert planned == restore.RestorePlan(
        "tenant1", "2026-12-02 20:15:00.000000+00", 1796242500, 15, "main", 5432
    )
    assert restore.restore_plan(env, "pg1", request) is None  # only the cluster's host
    assert restore.restore_plan(env, "tenant1", None) is None  # no request: nothing
    assert restore.RestoreRequest.from_data(request.as_data()) == request


def test_the_restore_command_refuses_before_any_host_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    path = _inventory(tmp_path)
    assert cli.main(["restore", str(path)]) == 2
    assert "error: --cluster is required" in capsys.readouterr().err
    assert cli.main(["restore", str(path), "--cluster", "adx", "--at", "noon"]) == 2
    assert "error: --at 'noon': not a time" in capsys.readouterr().err
    assert calls == []


def test_an_export_into_a_folder_that_holds_files_is_refused_before_any_host_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert cli.main(["tenant-export", str(_inventory(tmp_path)), "acme", "--out", str(out)]) == 2
    assert f"error: --out {out}: not empty; an export goes into a new folder" in (
        capsys.readouterr().err
    )
    assert calls == [] and [p.name for p in out.iterdir()] == ["keep.txt"]
    assert cli.main(["tenant-import", str(_inventory(tmp_path)), "acme", "--from", str(out)]) == 2
    assert f"error: --from {out}: no manifest.json: not a tenant export" in (
        capsys.readouterr().err
    )
    assert calls == []
