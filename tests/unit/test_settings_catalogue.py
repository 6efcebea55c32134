"""The settings catalogue (DESIGN.md decision 9): the inventory's `postgres.settings` checked
against PostgreSQL 15's own pg_settings, one `path: message` line per problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from adxdb.inventory import settings_catalogue as sc
from adxdb.inventory import settings_data as sd
from adxdb.inventory.model import Environment
from adxdb.plan import config as pgconf
from adxdb.plan import restarts
from tools.settings_catalogue import catalogue_json

REPO = Path(__file__).resolve().parents[2]


def problems(settings: dict[str, object], version: int = 15) -> list[str]:
    return [f"{path}: {message}" for path, message in sc.setting_problems(version, settings)]


def one_problem(name: str, value: object) -> str:
    found = problems({name: value})
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def catalogue_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty catalogue folder in place of the shipped one (the cache cleared around it)."""
    monkeypatch.setattr(sd, "CATALOGUE_DIR", tmp_path)
    sd.catalogue.cache_clear()
    yield tmp_path
    sd.catalogue.cache_clear()


# --- names ----------------------------------------------------------------------------------


def test_unknown_name_suggests_the_nearest_setting() -> None:
    assert one_problem("shared_buffer", "2GB") == (
        "postgres.settings.shared_buffer: 'shared_buffer' is not a PostgreSQL 15 setting; "
        "did you mean 'shared_buffers'?"
    )


def test_unknown_name_without_a_near_setting() -> None:
    assert one_problem("xyzzy", 1) == (
        "postgres.settings.xyzzy: 'xyzzy' is not a PostgreSQL 15 setting"
    )


def test_unknown_extension_prefix_is_refused() -> None:
    assert one_problem("foo.bar", 1) == (
        "postgres.settings.foo.bar: 'foo.bar' is not a setting of an extension the "
        "PostgreSQL 15 catalogue knows (extensions: pg_stat_statements)"
    )


def test_unknown_setting_of_a_known_extension_suggests_its_settings() -> None:
    assert one_problem("pg_stat_statements.maxx", 5000) == (
        "postgres.settings.pg_stat_statements.maxx: 'pg_stat_statements.maxx' is not a "
        "PostgreSQL 15 setting; did you mean 'pg_stat_statements.max'?"
    )


def test_extension_settings_are_checked_like_the_server_s_own() -> None:
    assert problems({"pg_stat_statements.max": 10000, "pg_stat_statements.track": "all"}) == []
    assert one_problem("pg_stat_statements.track", "everything") == (
        "postgres.settings.pg_stat_statements.track: 'pg_stat_statements.track' takes one of: "
        "none, top, all; got 'everything'"
    )


def test_settings_fixed_at_build_or_initdb_are_refused() -> None:
    assert one_problem("block_size", 8192) == (
        "postgres.settings.block_size: 'block_size' is fixed when PostgreSQL is built or the "
        "cluster is initialized and cannot be set"
    )


@pytest.mark.parametrize(
    "name",
    [
        # TLS
        "ssl",
        "ssl_ciphers",
        "ssl_key_file",
        "ssl_min_protocol_version",
        # archiving and recovery
        "archive_mode",
        "archive_command",
        "archive_library",
        "archive_timeout",
        "restore_command",
        "primary_conninfo",
        # ports, sockets, authentication
        "port",
        "listen_addresses",
        "unix_socket_directories",
        "password_encryption",
        # files
        "data_directory",
        "hba_file",
        "ident_file",
        "config_file",
        "external_pid_file",
        # includes (configuration-file directives, not settings)
        "include",
        "include_dir",
        "include_if_exists",
    ],
)
def test_settings_the_deploy_owns_are_refused_by_name(name: str) -> None:
    assert one_problem(name, "x") == (
        f"postgres.settings.{name}: '{name}' is managed by the deploy and cannot be set in the "
        "inventory"
    )


def test_every_setting_the_deploy_writes_is_refused() -> None:
    env = Environment.model_validate(
        {
            "name": "test",
            "tls": {"mode": "generate"},
            "client_networks": ["10.20.0.0/16"],
            "backups": {"enabled": True},
            "hosts": {"pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10"}}},
        }
    )
    written = pgconf.owned_settings(env, pgconf.ClusterPaths(15, "main"))
    assert "archive_command" in written
    assert [name for name in written if not sc.is_managed(name)] == []


@pytest.mark.parametrize("name", sorted(pgconf.LOGGING_DEFAULTS))
def test_the_deploys_logging_defaults_may_be_overridden(name: str) -> None:
    value = {"log_statement": "mod", "log_line_prefix": "%m %u "}.get(name, False)
    assert sc.setting_problems(15, {name: value}) == []


# --- values ---------------------------------------------------------------------------------


def test_wrong_type_for_a_bool_setting() -> None:
    assert one_problem("fsync", "maybe") == (
        "postgres.settings.fsync: 'fsync' takes a boolean (true/false, on/off, yes/no, 1/0); "
        "got 'maybe'"
    )


def test_wrong_type_for_an_integer_setting() -> None:
    assert one_problem("max_connections", True) == (
        "postgres.settings.max_connections: 'max_connections' takes an integer; got true"
    )
    assert one_problem("max_connections", 100.5) == (
        "postgres.settings.max_connections: 'max_connections' takes an integer; got 100.5"
    )


def test_wrong_type_for_a_real_setting() -> None:
    assert one_problem("random_page_cost", "fast") == (
        "postgres.settings.random_page_cost: 'random_page_cost' takes a number; got 'fast'"
    )


def test_wrong_type_for_an_enum_setting() -> None:
    assert one_problem("wal_level", 5) == (
        "postgres.settings.wal_level: 'wal_level' takes one of: minimal, replica, logical; got 5"
    )


def test_wrong_type_for_a_string_setting() -> None:
    # YAML's `search_path: yes` is a bool, which would be written as `on`.
    assert one_problem("search_path", True) == (
        "postgres.settings.search_path: 'search_path' takes a string; got true "
        "(quote it in the YAML)"
    )


def test_enum_value_outside_its_values() -> None:
    assert one_problem("wal_level", "archive") == (
        "postgres.settings.wal_level: 'wal_level' takes one of: minimal, replica, logical; "
        "got 'archive'"
    )


def test_memory_setting_without_a_valid_unit() -> None:
    # Units are case-sensitive, as PostgreSQL reads them.
    assert one_problem("work_mem", "4mb") == (
        "postgres.settings.work_mem: 'work_mem' takes a memory size (a number with a unit: "
        "B, kB, MB, GB, TB; case matters; or a whole number of kB); got '4mb'"
    )


def test_time_unit_for_a_memory_setting() -> None:
    assert one_problem("shared_buffers", "30s") == (
        "postgres.settings.shared_buffers: 'shared_buffers' takes a memory size, not a duration; "
        "got '30s'"
    )


def test_memory_unit_for_a_time_setting() -> None:
    assert one_problem("statement_timeout", "30MB") == (
        "postgres.settings.statement_timeout: 'statement_timeout' takes a duration, not a "
        "memory size; got '30MB'"
    )


def test_unit_for_a_setting_without_one() -> None:
    assert one_problem("max_connections", "100MB") == (
        "postgres.settings.max_connections: 'max_connections' takes an integer without a unit; "
        "got '100MB'"
    )


def test_out_of_range_low() -> None:
    assert one_problem("shared_buffers", "64kB") == (
        "postgres.settings.shared_buffers: 'shared_buffers' must be between 128kB and "
        "8589934584kB (about 8TB); got '64kB'"
    )
    assert one_problem("max_connections", 0) == (
        "postgres.settings.max_connections: 'max_connections' must be between 1 and 262143; got 0"
    )


def test_out_of_range_high() -> None:
    assert one_problem("log_min_duration_statement", "25d") == (
        "postgres.settings.log_min_duration_statement: 'log_min_duration_statement' must be "
        "between -1 and 2147483647ms (about 24.9d); got '25d'"
    )
    assert one_problem("checkpoint_timeout", "2d") == (
        "postgres.settings.checkpoint_timeout: 'checkpoint_timeout' must be between 30s and 1d; "
        "got '2d'"
    )


def test_values_are_converted_to_the_base_unit_as_postgresql_does() -> None:
    # 8TB is 2^30 blocks of 8kB, one more than shared_buffers' maximum.
    assert problems({"shared_buffers": "8TB"}) != []
    assert problems({"shared_buffers": "8191GB"}) == []
    # A bare number counts in the base unit: 16 blocks of 8kB is the minimum.
    assert problems({"shared_buffers": 16}) == []
    assert problems({"shared_buffers": 15}) != []
    # Fractions round to the next smaller unit, then to a whole base unit: 0.1kB is 0kB.
    assert problems({"work_mem": "64.4kB"}) == []
    assert problems({"work_mem": "0.1kB"}) != []
    assert problems({"statement_timeout": "1500us"}) == []


def test_control_character_in_a_value() -> None:
    assert one_problem("application_name", "adx\nlisten_addresses = '*'") == (
        "postgres.settings.application_name: the value of 'application_name' contains a "
        "control character (a line break, tab or similar), which postgresql.conf cannot hold"
    )


def test_float_that_would_not_read_back_as_a_number() -> None:
    # str(1e-05) is `1e-05`, which postgresql.conf's lexer does not read as one number.
    assert one_problem("seq_page_cost", 1e-05) == (
        "postgres.settings.seq_page_cost: 'seq_page_cost': 1e-05 cannot be written unquoted in "
        "postgresql.conf; quote it in the YAML ('1e-05')"
    )
    assert problems({"seq_page_cost": "1e-05", "cpu_tuple_cost": 1.5e-05}) == []


def test_one_line_per_problem_in_inventory_order() -> None:
    assert [line.split(":")[0] for line in problems({"fsync": 2, "ok": 1, "port": 5})] == [
        "postgres.settings.fsync",
        "postgres.settings.ok",
        "postgres.settings.port",
    ]


# --- what is accepted -----------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "shared_buffers": "128MB",
    "work_mem": "4MB",
    "maintenance_work_mem": "1.5GB",
    "effective_cache_size": "4 GB",
    "statement_timeout": "30s",
    "idle_in_transaction_session_timeout": "10min",
    "log_min_duration_statement": 0,
    "shared_preload_libraries": "pg_stat_statements",
    "max_connections": 100,
    "random_page_cost": 1.1,
    "vacuum_cost_delay": "2ms",
    "jit": False,
    "fsync": "on",
    "wal_compression": True,
    "synchronous_commit": "OFF",
    "wal_level": "Replica",
    "timezone": "UTC",
    "pg_stat_statements.max": 10000,
}


def test_good_values_with_units_pass_and_render() -> None:
    assert problems(GOOD) == []
    for value in GOOD.values():
        pgconf.quote_value(value)


@pytest.mark.parametrize("value", [True, False, "on", "off", "yes", "no", "1", "0", 1, 0, "TRUE"])
def test_bool_spellings_postgresql_reads(value: object) -> None:
    assert problems({"autovacuum": value}) == []


@pytest.mark.parametrize("path", sorted((REPO / "inventories").glob("*.yml")), ids=lambda p: p.name)
def test_settings_of_every_inventory_are_accepted(path: Path) -> None:
    postgres = yaml.safe_load(path.read_text(encoding="utf-8")).get("postgres", {})
    assert problems(postgres.get("settings", {}), postgres.get("version", 15)) == []


def test_restart_needed_names_postmaster_settings() -> None:
    assert restarts.restart_needed(15, ["shared_buffers", "work_mem"]) == ["shared_buffers"]
    assert restarts.restart_needed(15, ["pg_stat_statements.max", "unknown"]) == [
        "pg_stat_statements.max"
    ]


# --- the catalogue files --------------------------------------------------------------------


def test_missing_catalogue_is_one_problem_naming_the_available_versions(
    catalogue_dir: Path,
) -> None:
    shipped = Path(sc.__file__).parent / "pg_settings" / "15.json"
    (catalogue_dir / "15.json").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    assert problems({"work_mem": "4MB"}, version=16) == [
        "postgres.version: no settings catalogue for PostgreSQL 16 (available: 15); generate "
        "one with python -m tools.settings_catalogue 16"
    ]
    with pytest.raises(sd.CatalogueMissing):
        restarts.restart_needed(16, ["shared_buffers"])


def test_shipped_catalogue_is_sorted_lowercase_and_has_pg_stat_statements() -> None:
    text = (Path(sc.__file__).parent / "pg_settings" / "15.json").read_text(encoding="utf-8")
    names = list(json.loads(text)["settings"])
    assert names == sorted(names) and all(name == name.lower() for name in names)
    loaded = sd.parse_catalogue(text)
    assert loaded.version == 15 and "pg_stat_statements" in loaded.extensions
    assert loaded.settings["shared_buffers"].unit == sd.Unit("memory", 8192, "8kB")
    assert len(text.splitlines()) == len(names) + 2  # one setting per line


FAKE_ROWS: list[dict[str, Any]] = [
    # as the generator's query returns pg_settings rows: min_val and max_val are text
    {"name": "work_mem", "vartype": "integer", "unit": "kB", "min_val": "64",
     "max_val": "2147483647", "enumvals": None, "context": "user"},
    {"name": "TimeZone", "vartype": "string", "unit": None, "min_val": None,
     "max_val": None, "enumvals": None, "context": "user"},
    {"name": "fsync", "vartype": "bool", "unit": None, "min_val": None, "max_val": None,
     "enumvals": None, "context": "sighup"},
    {"name": "seq_page_cost", "vartype": "real", "unit": None, "min_val": "0",
     "max_val": "1.79769e+308", "enumvals": None, "context": "user"},
    {"name": "wal_level", "vartype": "enum", "unit": None, "min_val": None, "max_val": None,
     "enumvals": ["minimal", "replica", "logical"], "context": "postmaster"},
    {"name": "pg_stat_statements.max", "vartype": "integer", "unit": None,
     "min_val": "100", "max_val": "1073741823", "enumvals": None, "context": "postmaster"},
]  # fmt: skip


def test_generator_output_is_what_the_loader_reads(catalogue_dir: Path) -> None:
    text = catalogue_json(99, "99.0", FAKE_ROWS)
    assert text == catalogue_json(99, "99.0", list(reversed(FAKE_ROWS)))  # stable
    loaded = sd.parse_catalogue(text)
    assert loaded.version == 99 and loaded.extensions == {"pg_stat_statements"}
    assert loaded.settings == {
        "fsync": sd.Setting("fsync", "bool", "sighup"),
        "pg_stat_statements.max": sd.Setting(
            "pg_stat_statements.max", "integer", "postmaster", None, 100, 1073741823
        ),
        "seq_page_cost": sd.Setting("seq_page_cost", "real", "user", None, 0.0, 1.79769e308),
        "timezone": sd.Setting("timezone", "string", "user"),
        "wal_level": sd.Setting(
            "wal_level", "enum", "postmaster", values=("minimal", "replica", "logical")
        ),
        "work_mem": sd.Setting(
            "work_mem", "integer", "user", sd.Unit("memory", 1024, "kB"), 64, 2147483647
        ),
    }
    (catalogue_dir / "99.json").write_text(text, encoding="utf-8")
    assert problems({"work_mem": "4MB", "timezone": "UTC", "wal_level": "logical"}, 99) == []
    assert problems({"work_mem": "1kB"}, 99) == [
        "postgres.settings.work_mem: 'work_mem' must be between 64kB and 2147483647kB "
        "(about 2TB); got '1kB'"
    ]
    assert restarts.restart_needed(99, ["wal_level", "work_mem"]) == ["wal_level"]


# --- restart prediction ---------------------------------------------------------------------

CONF = "/etc/postgresql/15/main/conf.d/50-adx.conf"


@pytest.mark.parametrize(
    ("name", "wanted", "running"),
    [
        ("shared_buffers", "128MB", "16384"),  # 8kB blocks
        ("shared_buffers", 16384, "16384"),
        ("max_connections", 100, "100"),
        ("archive_mode", False, "off"),
        ("archive_mode", "on", "on"),
        ("huge_pages", "TRY", "try"),
        ("shared_preload_libraries", "pg_stat_statements", "pg_stat_statements"),
        ("autovacuum_freeze_max_age", "200000000", "200000000"),
    ],
)
def test_a_value_in_other_words_is_the_running_value(
    name: str, wanted: object, running: str
) -> None:
    setting = sd.catalogue(15).settings[name]
    assert restarts.same_value(setting, wanted, running)
    assert restarts.restart_changes(15, {name: wanted}, {name: {"setting": running}}, CONF) == []


@pytest.mark.parametrize(
    ("name", "wanted", "running"),
    [
        ("shared_buffers", "256MB", "16384"),
        ("max_connections", 200, "100"),
        ("archive_mode", True, "off"),
        ("shared_preload_libraries", "pg_stat_statements", ""),
    ],
)
def test_a_changed_restart_setting_needs_a_restart(name: str, wanted: object, running: str) -> None:
    assert restarts.restart_changes(15, {name: wanted}, {name: {"setting": running}}, CONF) == [
        name
    ]


def test_a_restart_setting_the_deploys_file_no_longer_sets_needs_a_restart() -> None:
    running = {
        "max_locks_per_transaction": {"setting": "128", "sourcefile": CONF},
        "max_prepared_transactions": {"setting": "5", "sourcefile": "/elsewhere.conf"},
    }
    assert restarts.restart_changes(15, {}, running, CONF) == ["max_locks_per_transaction"]


def test_a_reload_setting_never_needs_a_restart() -> None:
    running = {"work_mem": {"setting": "4096", "sourcefile": CONF}}
    assert restarts.restart_changes(15, {"work_mem": "8MB"}, running, CONF) == []
