"""pgBackRest: files rendered from the model, and the stanza operation (facts in, commands
out)."""

from __future__ import annotations

from typing import Any

import pytest
from pyinfra.api import OperationError

from adxdb.inventory.model import Backups
from adxdb.plan.backups import render_config, render_schedule
from adxdb.plan.config import ClusterPaths
from operations import backups as ops
from operations import facts
from tests.unit.conftest import OperationRun, run_operation

PATHS = ClusterPaths(15, "main")


def test_config_names_the_repository_retention_and_cluster() -> None:
    text = render_config(Backups(retention_full=3, repo_path="/srv/backup"), PATHS, 5433)
    assert "repo1-path=/srv/backup\n" in text
    assert "repo1-retention-full=3\n" in text
    assert "[adx]\npg1-path=/var/lib/postgresql/15/main\npg1-port=5433\n" in text


def test_schedule_runs_full_and_differential_backups_as_postgres() -> None:
    text = render_schedule(Backups(full_schedule="0 2 * * 0", diff_schedule="0 2 * * 1-6"))
    assert "0 2 * * 0 postgres pgbackrest --stanza=adx --type=full backup\n" in text
    assert "0 2 * * 1-6 postgres pgbackrest --stanza=adx --type=diff backup\n" in text


def test_a_schedule_that_is_not_five_cron_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="full_schedule"):
        Backups(full_schedule="every sunday")


def _run(state: Any) -> tuple[list[str], OperationRun]:
    facts_in = {"facts.PgBackRestState": {"port=5432, stanza=adx": state}}
    run = run_operation(ops.stanza, facts_in, stanza="adx", port=5432)
    return [str(c.get_raw_value()) for c in run.commands], run


def _state(code: int, backups: int = 0, archive_mode: str = "on") -> dict[str, Any]:
    return {
        "archive_mode": archive_mode,
        "status": {"code": code, "message": "m"},
        "backups": backups,
    }


def test_a_stanza_with_backups_is_a_noop() -> None:
    commands, run = _run(_state(0, backups=2))
    assert commands == []
    assert run.noop_description == "stanza adx holds 2 backup(s)"


def test_a_missing_stanza_is_created_checked_and_backed_up() -> None:
    commands, _ = _run(_state(1))
    assert commands == [
        "runuser -u postgres -- pgbackrest --stanza=adx stanza-create",
        "runuser -u postgres -- pgbackrest --stanza=adx check",
        "runuser -u postgres -- pgbackrest --stanza=adx --type=full backup",
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
    with pytest.raises(OperationError, match=r"status 4 \(m\)"):
        _run(_state(4))


def test_state_fact_reads_archive_mode_and_the_stanza() -> None:
    fact = facts.PgBackRestState()
    info = '[{"name": "adx", "status": {"code": 0, "message": "ok"}, "backup": [{}, {}]}]'
    assert fact.process(["archive_mode=on", info]) == {
        "archive_mode": "on",
        "status": {"code": 0, "message": "ok"},
        "backups": 2,
    }
    assert fact.process(["null"]) is None
