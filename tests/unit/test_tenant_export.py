"""Per-tenant export and import: where each level's data is, the manifest and its file
checks, the check for another tenant's rows, and the import script rendered from a
manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adxdb.errors import AdxError
from adxdb.inventory.loader import load_inventory
from adxdb.plan import tenant_export as export
from tests.unit.test_restore_drill import TENANTS, _inventory

ACME = TENANTS[0]["id"]


def test_each_level_has_its_location(tmp_path: Path) -> None:
    env = load_inventory(_inventory(tmp_path)).env
    assert export.tenant_location(env, "acme") == export.TenantLocation(
        "acme", ACME, "rls", "pg1", "adx_core", "public"
    )
    assert export.tenant_location(env, "globex").schema == "tenant_globex"
    dedicated = export.tenant_location(env, "initech")
    assert (dedicated.host, dedicated.database, dedicated.schema) == (
        "tenant1",
        "adx_tenant_initech",
        "public",
    )
    with pytest.raises(AdxError) as refused:
        export.tenant_location(env, "nope")
    assert refused.value.problems == [
        "tenant nope: no such tenant in the inventory (its tenants: acme, globex, initech)"
    ]


def _export(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    directory = tmp_path / "export"
    for part in ("data", "control"):
        (directory / part).mkdir(parents=True)
    header = list(rows[0]) if rows else ["id", "tenant_id"]
    lines = [",".join(header)] + [",".join(row[c] for c in header) for row in rows]
    (directory / "data" / "public.users.csv").write_text("\n".join(lines) + "\n")
    (directory / "data" / "public.users.json").write_text(
        json.dumps({"rows": len(rows), "checksum": "abc"})
    )
    (directory / "control" / "public.tenants.csv").write_text("id\n" + ACME + "\n")
    (directory / "control" / "public.tenants.json").write_text('{"rows": 1, "checksum": "t"}')
    return directory


LOCATION = export.TenantLocation("acme", ACME, "rls", "pg1", "adx_core", "public")


def _manifest(directory: Path) -> dict[str, Any]:
    manifest = export.build_manifest(directory, LOCATION, "2026-12-02T20:00:00Z", "pg1")
    (directory / export.MANIFEST).write_text(json.dumps(manifest))
    return manifest


def test_the_manifest_lists_rows_checksum_and_file_digest_per_table(tmp_path: Path) -> None:
    directory = _export(tmp_path, [{"id": "1", "tenant_id": ACME}])
    manifest = _manifest(directory)
    assert manifest["tenant"] == {"slug": "acme", "id": ACME}
    assert manifest["source"]["database"] == "adx_core"
    assert manifest["point_in_time"] == "2026-12-02T20:00:00Z"
    users = manifest["tables"]["public.users"]
    assert (users["rows"], users["checksum"], users["file"]) == (1, "abc", "data/public.users.csv")
    assert len(users["sha256"]) == 64
    assert list(manifest["control_plane"]) == ["public.tenants"]
    assert export.read_manifest(directory) == manifest
    (directory / "data" / "public.users.csv").write_text("id,tenant_id\n2,x\n")
    with pytest.raises(AdxError, match="sha256 differs from the manifest"):
        export.read_manifest(directory)
    with pytest.raises(AdxError, match=r"no manifest\.json"):
        export.read_manifest(tmp_path)


def test_another_tenants_row_in_an_export_is_found(tmp_path: Path) -> None:
    own = _export(tmp_path / "own", [{"id": "1", "tenant_id": ACME}])
    assert export.other_tenant_rows(own, _manifest(own)) == []
    mixed = _export(
        tmp_path / "mixed",
        [{"id": "1", "tenant_id": ACME}, {"id": "2", "tenant_id": "someone-else"}],
    )
    assert export.other_tenant_rows(mixed, _manifest(mixed)) == [
        "public.users: 1 row(s) of another tenant"
    ]


def test_the_import_checks_emptiness_then_each_table_before_one_commit(tmp_path: Path) -> None:
    manifest = {"tables": {"public.users": {"rows": 3, "checksum": "ab'c", "file": "data/x.csv"}}}
    schema_target = export.TenantLocation("globex", "g-id", "schema", "pg1", "adx_core", "t_g")
    text = export.render_import(manifest, schema_target, "/var/lib/adx-import/globex")
    assert "SET LOCAL session_replication_role = replica;" in text
    assert (
        "SELECT pg_temp.adx_import_empty('adx_core.t_g.users', count(*)) "
        'FROM "t_g"."users" r WHERE true;'
    ) in text
    assert (
        '\\copy "t_g"."users" FROM \'/var/lib/adx-import/globex/data/x.csv\' '
        "WITH (FORMAT csv, HEADER MATCH)"
    ) in text
    assert "3, 'ab''c') FROM (SELECT md5(to_jsonb(r)::text)" in text
    assert text.rstrip().endswith("COMMIT;") and text.count("COMMIT;") == 1
    rls = export.render_import(manifest, LOCATION, "/d")
    assert f"WHERE r.tenant_id = '{ACME}'" in rls


def test_an_import_of_another_tenants_export_is_refused(tmp_path: Path) -> None:
    env = load_inventory(_inventory(tmp_path)).env
    manifest = {"tenant": {"slug": "acme", "id": ACME}, "tables": {}}
    assert export.check_import(env, "acme", manifest).database == "adx_core"
    with pytest.raises(AdxError, match=f"the export is tenant acme \\({ACME}\\), not globex"):
        export.check_import(env, "globex", manifest)


def test_an_export_now_reads_the_cluster_and_one_at_a_time_a_scratch_restore(
    tmp_path: Path,
) -> None:
    env = load_inventory(_inventory(tmp_path)).env
    initech = export.tenant_location(env, "initech")
    now = export.export_source(env, initech, None)
    assert (now.host, now.socket_dir, now.port, now.scratch) == (
        "tenant1",
        "/var/run/postgresql",
        5432,
        None,
    )
    past = export.export_source(env, initech, "2026-12-02T20:15:00Z")
    assert (past.host, past.socket_dir, past.port) == (
        "backup1",
        "/var/lib/adx-drill/scratch/tenant1",
        5499,
    )
    assert past.point_in_time == "2026-12-02T20:15:00+00:00"
    assert past.scratch is not None and past.scratch["stanza"] == "tenant1"
    assert past.scratch["target"] == "2026-12-02 20:15:00.000000+00"
    with pytest.raises(AdxError, match="give its time zone"):
        export.export_source(env, initech, "2026-12-02T20:15:00")
