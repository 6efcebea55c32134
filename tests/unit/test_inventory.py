"""Inventory loading: every problem reported before any host is touched, one line each, with
the dotted path of the field and what is allowed; secrets never in a message."""

from __future__ import annotations

import copy
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from adxdb.errors import InventoryError
from adxdb.inventory.loader import load_inventory, load_model
from adxdb.inventory.tls import ensure_server_cert

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = REPO / "inventories"
STAGING_SECRETS = {
    "adx_migrator": "ADX_STAGING_MIGRATOR_PASSWORD",
    "adx_app": "ADX_STAGING_APP_PASSWORD",
    "adx_readonly": "ADX_STAGING_READONLY_PASSWORD",
    "adx_monitor": "ADX_STAGING_MONITOR_PASSWORD",
    "adx_replication": "ADX_STAGING_REPLICATION_PASSWORD",
}
SALT_KEY_VARIABLE = "ADX_STAGING_PASSWORD_SALT_KEY"
DISTINCTIVE_SECRET = "Zq9-distinctive-secret-value-4711"

BASE: dict[str, Any] = {
    "tls": {"mode": "generate"},
    "hosts": {"pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}}},
}
TENANT = {"slug": "acme", "id": "7b0f7d0e-8a4e-4c0e-9a55-0f3a1c2b9d11", "name": "Acme Corp"}
OTHER_TENANT = {"slug": "globex", "id": "0c9d1b8e-2f4a-4e57-8d0e-5a6b7c8d9e10", "name": "Globex"}


def write(tmp_path: Path, data: dict[str, Any], stem: str = "test") -> Path:
    """Write an inventory whose state folder is under `tmp_path`; the stem names the env."""
    path = tmp_path / f"{stem}.yml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), **data}))
    return path


def base(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return data


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    problems = raised.value.problems
    assert problems, "an InventoryError must list its problems"
    assert all("\n" not in problem for problem in problems)
    for problem in problems:
        assert f"  {problem}" in str(raised.value)
    return problems


def assert_one_problem(problems: list[str], where: str, allowed: str) -> None:
    assert len(problems) == 1, problems
    assert problems[0].startswith(where), problems
    assert allowed in problems[0], problems


def test_the_base_inventory_loads(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, base()))
    assert inventory.env.name == "test"
    assert inventory.state_dir == tmp_path / "state"
    assert set(inventory.tls) == {"pg1"}


@pytest.mark.parametrize(
    ("data", "where", "allowed"),
    [
        pytest.param(
            base(hostz={}), "hostz:", "unknown key (not part of the inventory format)", id="top"
        ),
        pytest.param(
            base(hosts={"pg1": {**BASE["hosts"]["pg1"], "sshh": {}}}),
            "hosts.pg1.sshh:",
            "unknown key (not part of the inventory format)",
            id="nested",
        ),
        pytest.param(
            base(hosts={"PG_1": BASE["hosts"]["pg1"]}),
            "hosts.PG_1",
            "'PG_1' is not a valid host name (lowercase letters, digits, -; 1-63 chars)",
            id="host-name",
        ),
        pytest.param(
            base(roles={"Bad-Role": {}}),
            "roles.Bad-Role",
            "'Bad-Role' is not a valid PostgreSQL name (lowercase letters, digits, _;",
            id="role-name",
        ),
        pytest.param(
            base(postgres={"settings": {"ssl": False}}),
            "postgres.settings.ssl",
            "'ssl' is managed by the deploy and cannot be set in the inventory",
            id="managed-setting",
        ),
        pytest.param(
            base(tenants=[{**TENANT, "slug": "acme'x"}]),
            "tenants[0].slug:",
            "is not a valid tenant slug (lowercase letters, digits, _;",
            id="slug-quote",
        ),
        pytest.param(
            base(tenants=[{**TENANT, "slug": "Acme Corp"}]),
            "tenants[0].slug:",
            "'Acme Corp' is not a valid tenant slug (lowercase letters, digits, _;",
            id="slug-space",
        ),
        pytest.param(
            base(tenants=[TENANT, {**OTHER_TENANT, "slug": "acme"}]),
            "tenants[1].slug:",
            "'acme' repeats tenants[0]",
            id="duplicate-slug",
        ),
        pytest.param(
            base(tenants=[TENANT, {**OTHER_TENANT, "id": TENANT["id"]}]),
            "tenants[1].id:",
            f"{TENANT['id']} repeats tenants[0]",
            id="duplicate-id",
        ),
        pytest.param(
            base(tenants=[{**TENANT, "isolation": "database", "host": "pg9"}]),
            "tenants[0].host:",
            "'pg9' is not a host of this environment",
            id="tenant-unknown-host",
        ),
        pytest.param(
            base(roles={"adx_app": {"bypassrls": True}}),
            "roles.adx_app.bypassrls:",
            "is fixed by the contract to False",
            id="contract-weakened",
        ),
        pytest.param(
            base(databases={"reports": {"owner": "nobody"}}),
            "databases.reports.owner:",
            "'nobody' is not a declared role",
            id="undeclared-owner",
        ),
    ],
)
def test_bad_inventory_names_the_field_and_what_is_allowed(
    tmp_path: Path, data: dict[str, Any], where: str, allowed: str
) -> None:
    assert_one_problem(problems_of(write(tmp_path, data)), where, allowed)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = base(hostz={}, tenants=[{**TENANT, "slug": "Acme Corp"}])
    data["hosts"]["pg1"]["sshh"] = {}
    problems = problems_of(write(tmp_path, data))
    assert len(problems) == 3
    assert {problem.split(":")[0] for problem in problems} == {
        "hostz",
        "hosts.pg1.sshh",
        "tenants[0].slug",
    }


def test_generated_tls_is_refused_in_prod(tmp_path: Path) -> None:
    hosts = copy.deepcopy(BASE["hosts"])
    hosts["backup1"] = {
        "address": "10.0.0.99",
        "ssh": {"hostname": "10.0.0.99"},
        "groups": ["backup"],
    }
    assert_one_problem(
        problems_of(write(tmp_path, base(hosts=hosts), stem="prod")),
        "tls.mode:",
        "'generate' is for local and test; prod needs 'files'",
    )


def test_missing_inventory_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "inventories" / "nowhere.yml"
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert raised.value.problems == [f"{path}: inventory file not found"]
    assert str(path) in str(raised.value)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "test.yml"
    path.write_text("- a\n- b\n")
    assert_one_problem(problems_of(path), f"{path}:", "must hold a mapping of inventory keys")


def test_invalid_yaml_is_refused_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "test.yml"
    path.write_text("hosts: [unclosed\n")
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    (problem,) = raised.value.problems
    assert problem.startswith(f"{path}: not valid YAML")


def test_invalid_yaml_is_one_problem_line_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "test.yml"
    path.write_text("hosts: [unclosed\n")
    problems_of(path)  # asserts one line per problem
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert "line 2, column 1" in raised.value.problems[0]


# Secrets -----------------------------------------------------------------------------------


def staging_copy(tmp_path: Path, tls_files: bool = False) -> Path:
    """inventories/staging.yml with its state folder (and optionally its TLS files) in tmp."""
    data = yaml.safe_load((INVENTORIES / "staging.yml").read_text())
    data["state_dir"] = str(tmp_path / "state")
    if tls_files:
        # Real material, as an operator supplies it: a CA, and each host's certificate naming
        # the host's address and DNS names.
        for name, spec in data["hosts"].items():
            ensure_server_cert(
                tmp_path / "tls", "staging", name, [spec["address"], *spec.get("dns_names", [])]
            )
            spec["tls_cert_file"] = str(tmp_path / "tls" / f"{name}.crt")
            spec["tls_key_file"] = str(tmp_path / "tls" / f"{name}.key")
        data["tls"]["ca_file"] = str(tmp_path / "tls" / "ca.crt")
    path = tmp_path / "staging.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def no_staging_secrets(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in (*STAGING_SECRETS.values(), SALT_KEY_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_missing_staging_secrets_name_the_field_and_variable(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    problems = problems_of(staging_copy(tmp_path, tls_files=True))
    assert problems == [
        f"roles.{role}.password.env: environment variable {variable} is not set or empty"
        for role, variable in STAGING_SECRETS.items()
    ] + [
        f"postgres.password_salt_key.env: environment variable {SALT_KEY_VARIABLE} "
        "is not set or empty"
    ]


def test_missing_staging_secrets_and_tls_files_are_reported_together(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    problems = problems_of(staging_copy(tmp_path))
    assert (
        "roles.adx_app.password.env: environment variable ADX_STAGING_APP_PASSWORD "
        "is not set or empty"
    ) in problems
    assert [p.split(":")[0] for p in problems if not p.startswith("roles.")] == [
        "postgres.password_salt_key.env",
        "tls.ca_file",
        "hosts.backup1.tls_cert_file",
        "hosts.backup1.tls_key_file",
        "hosts.db1.tls_cert_file",
        "hosts.db1.tls_key_file",
    ]
    assert any("/etc/adx/staging/ca.crt" in problem for problem in problems)


def test_an_empty_secret_variable_counts_as_missing(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    for variable in (*STAGING_SECRETS.values(), SALT_KEY_VARIABLE):
        no_staging_secrets.setenv(variable, "set")
    no_staging_secrets.setenv("ADX_STAGING_APP_PASSWORD", "")
    assert problems_of(staging_copy(tmp_path, tls_files=True)) == [
        "roles.adx_app.password.env: environment variable ADX_STAGING_APP_PASSWORD "
        "is not set or empty"
    ]


def test_secrets_from_environment_variables_are_loaded(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    for role, variable in STAGING_SECRETS.items():
        no_staging_secrets.setenv(variable, f"{DISTINCTIVE_SECRET}-{role}")
    no_staging_secrets.setenv(SALT_KEY_VARIABLE, f"{DISTINCTIVE_SECRET}-salt")
    inventory = load_inventory(staging_copy(tmp_path, tls_files=True))
    assert {role: secret.get_secret_value() for role, secret in inventory.passwords.items()} == {
        role: f"{DISTINCTIVE_SECRET}-{role}" for role in STAGING_SECRETS
    }
    assert inventory.password("adx_app").get_secret_value() == f"{DISTINCTIVE_SECRET}-adx_app"
    assert inventory.salt_key is not None
    assert inventory.salt_key.get_secret_value() == f"{DISTINCTIVE_SECRET}-salt"
    assert DISTINCTIVE_SECRET not in repr(inventory)
    assert inventory.tls["db1"].ca_pem == (tmp_path / "tls" / "ca.crt").read_text()
    assert "PRIVATE KEY" not in repr(inventory)
    assert not (tmp_path / "state").exists(), "staging must not generate anything"


def test_a_test_environment_generates_its_salt_key_once(tmp_path: Path) -> None:
    path = write(tmp_path, base())
    first = load_inventory(path).salt_key
    assert first is not None and len(first.get_secret_value()) >= 32
    key_file = tmp_path / "state" / "secrets" / "password-salt.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = load_inventory(path).salt_key
    assert second is not None and second.get_secret_value() == first.get_secret_value()
    assert first.get_secret_value() not in repr(load_inventory(path))


def test_a_supplied_salt_key_is_read_and_none_is_none_outside_local_and_test(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    for variable in STAGING_SECRETS.values():
        no_staging_secrets.setenv(variable, "set")
    path = staging_copy(tmp_path, tls_files=True)
    data = yaml.safe_load(path.read_text())
    del data["postgres"]["password_salt_key"]
    path.write_text(yaml.safe_dump(data))
    assert load_inventory(path).salt_key is None
    (tmp_path / "salt.key").write_text(f"{DISTINCTIVE_SECRET}\n")
    data["postgres"]["password_salt_key"] = {"file": str(tmp_path / "salt.key")}
    path.write_text(yaml.safe_dump(data))
    key = load_inventory(path).salt_key
    assert key is not None and key.get_secret_value() == DISTINCTIVE_SECRET


def test_a_secret_from_a_file_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "app.password").write_text(f"{DISTINCTIVE_SECRET}\n")
    data = base(roles={"adx_app": {"password": {"file": "app.password"}}})
    inventory = load_inventory(write(tmp_path, data))
    assert inventory.password("adx_app").get_secret_value() == DISTINCTIVE_SECRET


def test_a_secret_value_never_appears_in_a_model_error(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    no_staging_secrets.setenv("ADX_STAGING_APP_PASSWORD", DISTINCTIVE_SECRET)
    path = staging_copy(tmp_path, tls_files=True)
    data = yaml.safe_load(path.read_text())
    data["tenants"] = [{**TENANT, "slug": "Acme Corp"}]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert DISTINCTIVE_SECRET not in str(raised.value)
    assert "tenants[0].slug" in str(raised.value)


def test_a_secret_value_never_appears_beside_other_secret_problems(
    tmp_path: Path, no_staging_secrets: pytest.MonkeyPatch
) -> None:
    """The app's secret is read; the monitor's is missing and the TLS files are absent."""
    for variable in STAGING_SECRETS.values():
        no_staging_secrets.setenv(variable, DISTINCTIVE_SECRET)
    no_staging_secrets.delenv("ADX_STAGING_MONITOR_PASSWORD")
    with pytest.raises(InventoryError) as raised:
        load_inventory(staging_copy(tmp_path))
    assert "ADX_STAGING_MONITOR_PASSWORD" in str(raised.value)
    assert DISTINCTIVE_SECRET not in str(raised.value)
    assert DISTINCTIVE_SECRET not in repr(raised.value.problems)


@pytest.mark.parametrize(
    ("role", "where"),
    [
        pytest.param({"password": DISTINCTIVE_SECRET}, "roles.adx_app.password:", id="pasted"),
        pytest.param({"pasword": DISTINCTIVE_SECRET}, "roles.adx_app.pasword:", id="misspelt"),
        pytest.param(
            {"password": {"env": "ADX_APP", "file": DISTINCTIVE_SECRET}},
            "roles.adx_app.password",
            id="both-sources",
        ),
        pytest.param(
            {"password": {"env": DISTINCTIVE_SECRET}},
            "roles.adx_app.password.env:",
            id="as-variable-name",
        ),
    ],
)
def test_a_secret_pasted_into_the_yaml_is_not_echoed(
    tmp_path: Path, role: dict[str, Any], where: str
) -> None:
    problems = problems_of(write(tmp_path, base(roles={"adx_app": role})))
    assert len(problems) == 1
    assert problems[0].startswith(where)
    assert DISTINCTIVE_SECRET not in "".join(problems)


# The repository's own local and test inventories -------------------------------------------


@pytest.mark.parametrize("name", ["local", "test"])
def test_repository_inventories_load_with_generated_state(tmp_path: Path, name: str) -> None:
    """Copied under tmp_path/inventories/, so their state goes to tmp_path/.adx/<name>/."""
    (tmp_path / "inventories").mkdir()
    path = Path(shutil.copy(INVENTORIES / f"{name}.yml", tmp_path / "inventories"))
    inventory = load_inventory(path)
    state = tmp_path / ".adx" / name
    assert inventory.env.name == name
    assert inventory.state_dir == state
    tenant_roles = [f"adx_tenant_{t.slug}" for t in inventory.env.tenants if t.isolation != "rls"]
    assert sorted(inventory.passwords) == sorted(inventory.env.login_roles() + tenant_roles)
    secret_file = state / "secrets" / "adx_app.password"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert set(inventory.tls) == set(inventory.env.hosts)
    for material in inventory.tls.values():
        assert material.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
        assert material.key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    again = load_inventory(path)
    assert again.password("adx_app").get_secret_value() == (
        inventory.password("adx_app").get_secret_value()
    )


@pytest.mark.parametrize("name", ["local", "test", "staging", "prod"])
def test_repository_inventory_models_are_valid(name: str) -> None:
    assert load_model(INVENTORIES / f"{name}.yml").name == name
