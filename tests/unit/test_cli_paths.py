"""The CLI's paths mean what the user typed: a relative inventory is relative to the folder
the command runs in, not to the repository the deploy runs from."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from adxdb import cli

REPO = Path(__file__).resolve().parents[2]


def _captured(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    return calls


def test_a_relative_inventory_is_the_one_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inventories").mkdir()
    shutil.copy(REPO / "inventories" / "test.py", tmp_path / "inventories" / "test.py")
    monkeypatch.chdir(tmp_path)
    calls = _captured(monkeypatch)
    assert cli.main(["migrate", "inventories/test.yml", "--dry"]) == 0
    assert str(tmp_path / "inventories" / "test.py") in calls[0]
    assert str(REPO / "inventories" / "test.py") not in calls[0]
    assert "--dry" in calls[0]


def test_a_missing_inventory_is_named_as_typed_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    calls = _captured(monkeypatch)
    assert cli.main(["migrate", "inventories/test.yml"]) == 2
    assert calls == []
    assert f"{tmp_path / 'inventories' / 'test.py'}: inventory file not found" in (
        capsys.readouterr().err
    )


def test_a_read_job_of_a_bad_inventory_is_refused_before_any_host_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "test.yml"
    bad.write_text("hosts: {}\ntenants: [{slug: 'Bad Slug'}]\n")
    asked: list[Any] = []
    monkeypatch.setattr("adxdb.cli.subprocess.run", lambda *a, **k: asked.append(a))
    assert cli.main(["health-check", str(bad)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors and all(line.startswith("error: ") for line in errors)
    assert asked == []  # no pyinfra run: no host was touched


def test_json_of_one_database_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["health", "--dsn", "postgresql://x@127.0.0.1/adx_core", "--json"])
    assert refused.value.code == 2
    assert "--json needs an inventory" in capsys.readouterr().err
