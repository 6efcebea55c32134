"""Per-tenant export and import (DESIGN.md decision 7), for every isolation level.

An export reads one tenant's rows in one REPEATABLE READ snapshot (`sql/export/tenant.sql`):
`data/` holds the tenant stream's tables (an rls tenant's rows read as `adx_readonly` under its
tenant context, a schema tenant's schema, a database tenant's database), `control/` its
control-plane rows (rls and schema: the main database's shared tables, by tenant id; database:
the dedicated database's shared-stream tables). `manifest.json` lists per table the rows, an
order-independent checksum (`md5` of the sorted row hashes, as tenant moves verify) and the
file's sha256, with the source location and the point in time.

An import loads `data/` into the tenant's declared location, refused unless every table there
is empty of the tenant's rows, and checks each table against the manifest in the same
transaction: nothing is half-applied.

Pure: locations, the manifest, the import's psql script, the other-tenant row check.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

from adxdb import sqlfiles
from adxdb.contract import MAIN_DATABASE, tenant_database, tenant_schema
from adxdb.errors import AdxError
from adxdb.inventory.model import Environment, Tenant
from adxdb.plan import backups as pgbackrest
from adxdb.plan.drill import DRILL_DIR, SCRATCH_PORT, parse_target, repository_host, target_text
from adxdb.plan.tenants import tenant_host

EXPORT_DIR = "/var/lib/adx-export"
IMPORT_DIR = "/var/lib/adx-import"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class TenantLocation:
    """Where a tenant's data is: its level, host, database and the schema of its tables."""

    slug: str
    tenant_id: str
    isolation: str
    host: str
    database: str
    schema: str


def find_tenant(env: Environment, slug: str) -> Tenant:
    for tenant in env.tenants:
        if tenant.slug == slug:
            return tenant
    known = ", ".join(t.slug for t in env.tenants) or "none"
    raise AdxError(f"tenant {slug}: no such tenant in the inventory (its tenants: {known})")


def tenant_location(env: Environment, slug: str) -> TenantLocation:
    tenant = find_tenant(env, slug)
    if tenant.isolation == "database":
        database, schema = tenant_database(slug), "public"
    elif tenant.isolation == "schema":
        database, schema = MAIN_DATABASE, tenant_schema(slug)
    else:
        database, schema = MAIN_DATABASE, "public"
    return TenantLocation(
        slug, str(tenant.id), tenant.isolation, tenant_host(env, tenant), database, schema
    )


@dataclass(frozen=True)
class ExportSource:
    """Where an export reads: the cluster itself, or (a point in time) a scratch restore of
    its stanza on the repository's host (what the export operation's `scratch` gets)."""

    host: str
    socket_dir: str
    port: int
    point_in_time: str | None
    scratch: dict[str, Any] | None


def export_source(env: Environment, location: TenantLocation, at: str | None) -> ExportSource:
    if at is None:
        return ExportSource(location.host, pgbackrest.SOCKET_DIR, env.postgres.port, None, None)
    repository = repository_host(env)
    if repository is None:
        raise AdxError("--at: backups.enabled is false: there is no archive to restore from")
    when = parse_target(at)
    stanza = pgbackrest.stanza_of(env, location.host)
    scratch = {
        "stanza": stanza,
        "target": target_text(when),
        "target_epoch": int(when.timestamp()),
        "repo_path": str(env.backups.repo_path),
        "version": env.postgres.version,
        "drill_dir": DRILL_DIR,
    }
    return ExportSource(
        repository, f"{DRILL_DIR}/scratch/{stanza}", SCRATCH_PORT, when.isoformat(), scratch
    )


def export_sql() -> str:
    return sqlfiles.load("export/tenant") + "\n"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(
    directory: Path, location: TenantLocation, point_in_time: str, source_host: str
) -> dict[str, Any]:
    """The manifest of an unpacked export: per part and table, the rows and checksum the
    export's SQL recorded beside each CSV file, and the file's sha256."""
    parts: dict[str, dict[str, Any]] = {}
    for part in ("data", "control"):
        tables: dict[str, Any] = {}
        for summary in sorted((directory / part).glob("*.json")):
            name = summary.name.removesuffix(".json")
            recorded = json.loads(summary.read_text())
            data_file = directory / part / f"{name}.csv"
            tables[name] = {
                "rows": int(recorded["rows"]),
                "checksum": str(recorded["checksum"]),
                "file": f"{part}/{name}.csv",
                "sha256": _sha256(data_file),
            }
            summary.unlink()
        parts[part] = tables
    return {
        "format": FORMAT_VERSION,
        "tenant": {"slug": location.slug, "id": location.tenant_id},
        "source": {**asdict(location), "host": source_host},
        "point_in_time": point_in_time,
        "tables": parts["data"],
        "control_plane": parts["control"],
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    """An export's manifest, every file checked against its sha256; AdxError listing each
    problem otherwise."""
    path = directory / MANIFEST
    if not path.is_file():
        raise AdxError(f"--from {directory}: no {MANIFEST}: not a tenant export")
    manifest = dict(json.loads(path.read_text()))
    problems = []
    for part in ("tables", "control_plane"):
        for name, entry in manifest.get(part, {}).items():
            data_file = directory / entry["file"]
            if not data_file.is_file():
                problems.append(f"{entry['file']}: missing ({name})")
            elif _sha256(data_file) != entry["sha256"]:
                problems.append(f"{entry['file']}: sha256 differs from the manifest ({name})")
    if problems:
        raise AdxError(problems)
    return manifest


def other_tenant_rows(directory: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Each data table of an export holding a row whose tenant_id is not the export's tenant
    (one line per table, with how many)."""
    own = str(manifest["tenant"]["id"])
    problems = []
    for name, entry in manifest["tables"].items():
        with (directory / entry["file"]).open(newline="") as handle:
            rows = csv.DictReader(handle)
            if rows.fieldnames is None or "tenant_id" not in rows.fieldnames:
                continue
            others = sum(1 for row in rows if row["tenant_id"] != own)
        if others:
            problems.append(f"{name}: {others} row(s) of another tenant")
    return problems


def _target_filter(target: TenantLocation) -> sql.Composable:
    if target.isolation == "rls":
        return sql.SQL("r.tenant_id = {}").format(sql.Literal(target.tenant_id))
    return sql.SQL("true")


def render_import(manifest: Mapping[str, Any], target: TenantLocation, directory: str) -> str:
    """The psql script that loads an export's data tables into `target` (files under
    `directory` on the host): refused unless each table is empty of the tenant's rows; each
    checked against the manifest before the one COMMIT."""
    where = _target_filter(target)
    lines = [sqlfiles.load("export/import_head").strip()]
    for name, entry in sorted(manifest["tables"].items()):
        table_name = name.split(".", 1)[1]
        table = sql.Identifier(target.schema, table_name)
        label = sql.Literal(f"{target.database}.{target.schema}.{table_name}")
        lines.append(
            sql.SQL("SELECT pg_temp.adx_import_empty({}, count(*)) FROM {} r WHERE {};")
            .format(label, table, where)
            .as_string(None)
        )
        lines.append(
            sql.SQL("\\copy {} FROM {} WITH (FORMAT csv, HEADER MATCH)")
            .format(table, sql.Literal(f"{directory}/{entry['file']}"))
            .as_string(None)
        )
        lines.append(
            sql.SQL(
                "SELECT pg_temp.adx_import_check({}, count(*), "
                "md5(coalesce(string_agg(h, '' ORDER BY h), '')), {}, {}) "
                "FROM (SELECT md5(to_jsonb(r)::text) AS h FROM {} r WHERE {}) hashed;"
            )
            .format(
                label, sql.Literal(int(entry["rows"])), sql.Literal(entry["checksum"]), table, where
            )
            .as_string(None)
        )
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def check_import(env: Environment, slug: str, manifest: Mapping[str, Any]) -> TenantLocation:
    """The tenant's declared location, once the export is this tenant's (by id)."""
    target = tenant_location(env, slug)
    if str(manifest["tenant"]["id"]) != target.tenant_id:
        raise AdxError(
            f"the export is tenant {manifest['tenant']['slug']} ({manifest['tenant']['id']}), "
            f"not {slug} ({target.tenant_id})"
        )
    return target


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table_summary(manifest: Mapping[str, Any]) -> Sequence[str]:
    return [
        f"{name}: {entry['rows']} row(s), checksum {entry['checksum']}"
        for name, entry in sorted(manifest["tables"].items())
    ]
