"""operations/tenants.py: schema and registry facts in, commands (or a no-op) out."""

from __future__ import annotations

from io import StringIO
from typing import Any
from uuid import UUID

import pytest
from pyinfra.api import FileUploadCommand, OperationError

from adxdb.plan.tenants import RegistryRow, SchemaSpec
from operations import tenants as ops
from operations.facts import PgSchemas, PgTenantRegistry
from tests.unit.conftest import OperationRun, run_operation

SPEC = SchemaSpec(
    owner="adx_owner",
    usage=("adx_app", "adx_readonly", "adx_tenant_globex"),
    data_roles=("adx_tenant_globex",),
)
CONVERGED = {
    "tenant_globex": {
        "owner": "adx_owner",
        "usage": ["adx_app", "adx_readonly", "adx_tenant_globex"],
        "data_roles": ["adx_app", "adx_readonly", "adx_tenant_globex"],
    }
}
ROW = RegistryRow(
    id=str(UUID(int=2)),
    slug="globex",
    name="Globex",
    status="active",
    isolation_level="schema",
    db_host=None,
    db_port=5432,
    db_name="adx_core",
    db_schema="tenant_globex",
)


def _run(op: Any, facts: dict[str, Any], **kwargs: Any) -> tuple[list[Any], OperationRun]:
    run = run_operation(op, facts, **kwargs)
    return run.commands, run


def _schema_facts(value: Any) -> dict[str, Any]:
    return {"facts.PgSchemas": {"database=adx_core, port=5432": value}}


def test_converged_schemas_are_a_noop() -> None:
    commands, run = _run(
        ops.schemas,
        _schema_facts(CONVERGED),
        schemas={"adx_core": {"tenant_globex": SPEC}},
        port=5432,
    )
    assert commands == []
    assert run.noop_description == "tenant schemas of adx_core are converged"


def test_missing_schema_is_created_with_grants_in_one_transaction() -> None:
    _, run = _run(
        ops.schemas, _schema_facts({}), schemas={"adx_core": {"tenant_globex": SPEC}}, port=5432
    )
    script = run.upload()
    # concurrent deploys take turns (the statements are idempotent)
    assert script.startswith(
        "BEGIN;\nDO $adx_lock$ BEGIN PERFORM pg_advisory_xact_lock(1094998099); END $adx_lock$;\n"
        'CREATE SCHEMA IF NOT EXISTS "tenant_globex" AUTHORIZATION "adx_owner";'
    )
    assert script.rstrip().endswith("COMMIT;")


def test_schemas_with_the_server_down_is_an_error() -> None:
    with pytest.raises(OperationError, match="no PostgreSQL server answers on port 5432"):
        _run(ops.schemas, _schema_facts(None), schemas={"adx_core": {"x": SPEC}}, port=5432)


def _registry_facts(value: Any) -> dict[str, Any]:
    return {"facts.PgTenantRegistry": {"port=5432": value}}


def test_registry_converged_is_a_noop_and_drift_is_upserted() -> None:
    commands, run = _run(
        ops.tenant_registry, _registry_facts({ROW.id: ROW.as_fact()}), rows=[ROW], port=5432
    )
    assert commands == []
    assert run.noop_description == "registry holds 1 declared tenant(s)"
    renamed = {ROW.id: {**ROW.as_fact(), "name": "Old"}}
    _, run = _run(ops.tenant_registry, _registry_facts(renamed), rows=[ROW], port=5432)
    upload = run.upload()
    assert "SET LOCAL lock_timeout = '10s';" in upload
    assert 'UPDATE public.tenants SET "name" = ' in upload


def test_facts_parse_json_and_server_down() -> None:
    assert PgSchemas().process(['{"public": {"owner": "adx_owner"}}']) == {
        "public": {"owner": "adx_owner"}
    }
    assert PgSchemas().process(["null"]) is None
    assert PgTenantRegistry().process(["{}"]) == {}
    assert PgTenantRegistry().process(["null"]) is None
    command = str(PgSchemas().command(port=5432, database="adx_core"))
    assert "adx_database=adx_core" in command and "pg_isready -q -p 5432" in command


def test_drop_dumps_before_dropping_and_is_a_noop_once_gone() -> None:
    facts: dict[str, Any] = {
        "facts.PgSchemas": {"database=adx_core, port=5432": {"tenant_hooli": {}}},
        "facts.PgDatabases": {"port=5432": {"adx_tenant_umbrella": {}}},
    }
    commands, _ = _run(
        ops.dropped_tenant_data,
        facts,
        schemas=["tenant_hooli"],
        databases=["adx_tenant_umbrella"],
        stamp="20261125T000000Z",
        port=5432,
    )
    text = [str(c) for c in commands if not isinstance(c, FileUploadCommand)]
    dump = next(i for i, c in enumerate(text) if "pg_dump" in c and "tenant_hooli" in c)
    assert "/var/backups/adx/adx_core-tenant_hooli-20261125T000000Z.dump" in text[dump]
    uploads = [c for c in commands if isinstance(c, FileUploadCommand)]
    assert isinstance(uploads[0].src, StringIO)
    assert 'DROP SCHEMA IF EXISTS "tenant_hooli" CASCADE;' in uploads[0].src.getvalue()
    assert commands.index(uploads[0]) > dump  # the dump comes first
    assert isinstance(uploads[1].src, StringIO)
    assert (
        'DROP DATABASE IF EXISTS "adx_tenant_umbrella" WITH (FORCE);' in uploads[1].src.getvalue()
    )

    gone: dict[str, Any] = {
        "facts.PgSchemas": {"database=adx_core, port=5432": {}},
        "facts.PgDatabases": {"port=5432": {}},
    }
    commands, run = _run(
        ops.dropped_tenant_data,
        gone,
        schemas=["tenant_hooli"],
        databases=["adx_tenant_umbrella"],
        stamp="20261125T000000Z",
        port=5432,
    )
    assert commands == []
    assert run.noop_description == "dropped tenants' data is gone"
