"""Per-tenant export and import on real hosts, one tenant of each isolation level: the export
holds the tenant's rows with a manifest; an import into a location that holds the tenant's
rows is refused, changing nothing; into the emptied location it brings back every table with
equal rows and checksums. An export at a point in time (from a scratch restore on the backup
host) holds the rows written before it only. The rls export holds no other tenant's row (the
check, shown rows read without the tenant's context, finds them). An unknown tenant is
refused. A dropped tenant has an erasure horizon; an offboarded rls tenant (its rows kept) has
none."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from adxdb.plan.tenant_export import other_tenant_rows
from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import TEST_YML, converge, run_adxdb, variant_inventory

# slug -> (host, database, schema, tenant id)
TENANTS = {
    "acme": ("pg1", "adx_core", "public", "3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e01"),
    "globex": ("pg1", "adx_core", "tenant_globex", "3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e02"),
    "initech": ("tenant1", "adx_tenant_initech", "public", "3f1c9a52-6b0e-4d8a-9f3e-2a7b5c1d0e03"),
}
USERS = 4


def _manifest(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / "manifest.json").read_text()))


def _write_rows(test_env: HostsUnderTest, slug: str, rows: int = USERS, who: str = "user") -> None:
    host, database, schema, tenant_id = TENANTS[slug]
    test_env.psql(
        host,
        f"INSERT INTO {schema}.users (tenant_id, email, display_name, roles, created_at) "
        f"SELECT '{tenant_id}', '{who}' || g || '@{slug}.example', 'User ''' || g || '''', "
        "ARRAY['member', 'a,b'], '2026-01-02 03:04:05.678+00' FROM generate_series(1, "
        f"{rows}) g",
        database,
    )


def _empty(test_env: HostsUnderTest, slug: str, manifest: dict[str, Any]) -> None:
    host, database, schema, tenant_id = TENANTS[slug]
    held = [name.split(".", 1)[1] for name, e in manifest["tables"].items() if e["rows"]]
    statements = "; ".join(
        f"DELETE FROM {schema}.{table} WHERE tenant_id = '{tenant_id}'" for table in held
    )
    test_env.psql(host, f"SET session_replication_role = replica; {statements}", database)


@pytest.mark.parametrize("slug", sorted(TENANTS))
def test_an_export_and_import_round_trip_with_equal_rows_and_checksums(
    test_env: HostsUnderTest, tmp_path: Path, slug: str
) -> None:
    host, database, schema, tenant_id = TENANTS[slug]
    _write_rows(test_env, slug)
    first = tmp_path / "first"
    run = run_adxdb("tenant-export", TEST_YML, slug, "--out", first)
    assert run.returncode == 0, run.stdout[-4000:]
    manifest = _manifest(first)
    assert manifest["tenant"] == {"slug": slug, "id": tenant_id}
    users_file = first / "data" / f"{schema}.users.csv"
    assert (first.stat().st_mode & 0o777, users_file.stat().st_mode & 0o777) == (0o700, 0o600)
    assert (manifest["source"]["host"], manifest["source"]["database"]) == (host, database)
    assert manifest["source"]["schema"] == schema
    assert (
        manifest["tables"]["public.users" if schema == "public" else f"{schema}.users"]["rows"]
        == USERS
    )
    assert other_tenant_rows(first, manifest) == []
    if slug != "initech":  # the registry row travels with the control plane
        assert manifest["control_plane"]["public.tenants"]["rows"] == 1

    # Refused while the location holds the tenant's rows: nothing changes.
    count = f"SELECT count(*) FROM {schema}.users WHERE tenant_id = '{tenant_id}'"
    refused = run_adxdb("tenant-import", TEST_YML, slug, "--from", first)
    assert refused.returncode != 0
    assert "holds 4 row(s) of the tenant: an import goes into an empty location" in (
        refused.stdout
    ), refused.stdout[-3000:]
    assert test_env.psql(host, count, database) == str(USERS)

    _empty(test_env, slug, manifest)
    assert test_env.psql(host, count, database) == "0"
    run = run_adxdb("tenant-import", TEST_YML, slug, "--from", first)
    assert run.returncode == 0, run.stdout[-4000:]
    assert test_env.psql(host, count, database) == str(USERS)

    second = tmp_path / "second"
    assert run_adxdb("tenant-export", TEST_YML, slug, "--out", second).returncode == 0
    again = _manifest(second)
    for part in ("tables", "control_plane"):
        assert {n: (e["rows"], e["checksum"]) for n, e in again[part].items()} == {
            n: (e["rows"], e["checksum"]) for n, e in manifest[part].items()
        }
    rows = sum(e["rows"] for e in manifest["tables"].values())
    print(f"tenant {slug} ({manifest['source']['isolation']}): {rows} rows round-tripped")
    _empty(test_env, slug, manifest)


def test_an_rls_export_holds_no_other_tenants_row_and_the_check_would_see_one(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    _write_rows(test_env, "acme")
    try:
        out = tmp_path / "acme"
        assert run_adxdb("tenant-export", TEST_YML, "acme", "--out", out).returncode == 0
        manifest = _manifest(out)
        assert other_tenant_rows(out, manifest) == []
        # The twin: the same table read without the tenant's context (postgres bypasses RLS)
        # holds the seed's other tenants too, and the check finds them.
        unfiltered = tmp_path / "unfiltered"
        shutil.copytree(out, unfiltered)
        everyone = test_env.run(
            "pg1", "psql", "-X", "-d", "adx_core", "-c",
            "\\copy (SELECT * FROM public.users ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
        )  # fmt: skip
        (unfiltered / manifest["tables"]["public.users"]["file"]).write_text(everyone + "\n")
        found = other_tenant_rows(unfiltered, manifest)
        assert len(found) == 1 and found[0].startswith("public.users: "), found
    finally:
        _empty(test_env, "acme", {"tables": {"public.users": {"rows": 1}}})


def test_an_export_of_an_unknown_tenant_is_refused(tmp_path: Path) -> None:
    run = run_adxdb("tenant-export", TEST_YML, "nope", "--out", tmp_path / "x")
    assert run.returncode == 2
    assert "error: tenant nope: no such tenant in the inventory (its tenants: acme, " in run.stdout
    assert not (tmp_path / "x").exists()


def test_an_export_at_a_time_holds_the_rows_written_before_it_and_none_after(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    _write_rows(test_env, "acme")
    try:
        target = test_env.psql(
            "pg1", "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
        time.sleep(1.5)
        _write_rows(test_env, "acme", 2, "late")
        out = tmp_path / "at"
        run = run_adxdb("tenant-export", TEST_YML, "acme", "--at", target, "--out", out)
        assert run.returncode == 0, run.stdout[-4000:]
        manifest = _manifest(out)
        assert manifest["source"]["host"] == "backup1"  # read from a scratch restore there
        assert manifest["point_in_time"].startswith(target[:19])
        assert manifest["tables"]["public.users"]["rows"] == USERS
        assert other_tenant_rows(out, manifest) == []
        # the twin: the live table holds the rows written after the target too
        count = "SELECT count(*) FROM public.users WHERE email LIKE '%@acme.example'"
        assert test_env.psql("pg1", count, "adx_core") == str(USERS + 2)
        servers = test_env.run_as_root("backup1", "sh", "-c", "pgrep -f '[a]dx-drill' || true")
        assert servers == ""  # the scratch instance is gone
    finally:
        _empty(test_env, "acme", {"tables": {"public.users": {"rows": 1}}})


def test_a_dropped_tenant_has_an_erasure_horizon_and_a_kept_one_none(
    test_env: HostsUnderTest, tmp_path: Path, restore: None
) -> None:
    present = run_adxdb("tenant-erasure-horizon", TEST_YML, "hooli")
    assert present.returncode == 2
    assert "error: tenant hooli is present: offboard it first" in present.stdout

    tenants = yaml.safe_load(TEST_YML.read_text())["tenants"]
    for tenant in tenants:
        if tenant["slug"] == "hooli":
            tenant.update({"state": "absent", "drop": True})
        if tenant["slug"] == "acme":
            tenant.update({"state": "absent"})
    dropped = variant_inventory(tmp_path, {"tenants": tenants})
    converge(dropped)
    assert converge(dropped).changed_ops == {}
    yml = dropped.with_suffix(".yml")
    run = run_adxdb("tenant-erasure-horizon", yml, "hooli")
    assert run.returncode == 0, run.stdout[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith("tenant hooli (schema) dropped at "), lines
    assert re.search(r"\d+ backup\(s\) of stanza adx started before it; the last, ", run.stdout)
    assert "retention_full 2 (count): it expires once 2 newer full backups exist" in run.stdout
    assert re.search(r"^erasure horizon: \d{4}-\d\d-\d\d 01:30 UTC", run.stdout, re.M), lines
    # the twin: an rls tenant offboarded keeps its rows: no horizon
    kept = run_adxdb("tenant-erasure-horizon", yml, "acme")
    assert kept.returncode == 1
    assert "the deploy deletes no rls rows" in kept.stdout
