"""On a host reached through sudo, every upload is staged in the SSH user's private folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyinfra.api import FileUploadCommand

from adxdb.inventory.loader import load_inventory
from adxdb.plan.host import STAGING_DIR, RunInfo, host_plan
from operations.inventory import host_data
from operations.uploads import staging_name, upload
from tests.unit.conftest import fake_host
from tests.unit.test_operation_cases import CASES, run_case

SUDO_DATA = {"_sudo": True, "_temp_dir": STAGING_DIR}


def _inventory(tmp_path: Path, ssh: dict[str, Any]) -> Any:
    path = tmp_path / "test.yml"
    data = {
        "state_dir": str(tmp_path / "state"),
        "tls": {"mode": "generate"},
        "hosts": {"pg1": {"address": "10.0.0.10", "ssh": {"hostname": "10.0.0.10", **ssh}}},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_inventory(path)


def test_a_sudo_host_stages_in_its_users_private_folder(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, {"user": "deploy", "sudo": True})
    assert host_data(inventory, "pg1")["_temp_dir"] == STAGING_DIR
    staging = host_plan(inventory, "pg1", RunInfo.now()).staging
    assert staging is not None
    assert (staging.path, staging.user, staging.mode) == (STAGING_DIR, "deploy", "700")


def test_a_root_host_uploads_directly(tmp_path: Path) -> None:
    """The twin: without sudo, pyinfra uploads straight to the destination (nothing staged)."""
    inventory = _inventory(tmp_path, {})
    assert "_temp_dir" not in host_data(inventory, "pg1")
    assert host_plan(inventory, "pg1", RunInfo.now()).staging is None


def test_upload_names_its_staging_file_in_the_hosts_folder() -> None:
    with fake_host(data=SUDO_DATA):
        command = upload("SELECT 1;", "/var/lib/adx-deploy/roles-0123.sql")
    assert command.remote_temp_filename == staging_name(
        STAGING_DIR, "/var/lib/adx-deploy/roles-0123.sql"
    )
    assert command.remote_temp_filename.startswith(f"{STAGING_DIR}/adx-upload-")
    with fake_host():
        assert upload("SELECT 1;", "/x").remote_temp_filename is None


def _upload_cases() -> list[Any]:
    cases = []
    for folder in sorted(CASES.iterdir()):
        for case in sorted(folder.glob("*.json")):
            data = json.loads(case.read_text(encoding="utf-8"))
            if "exception" in data:
                continue
            if any(isinstance(c, list) and c[:1] == ["upload"] for c in data["commands"]):
                cases.append(pytest.param(folder.name, case, id=f"{folder.name}/{case.stem}"))
    return cases


def _unstaged(commands: list[Any]) -> list[str]:
    return [
        str(c.dest)
        for c in commands
        if isinstance(c, FileUploadCommand)
        and not str(c.remote_temp_filename or "").startswith(f"{STAGING_DIR}/")
    ]


def test_the_cases_upload_something() -> None:
    assert len(_upload_cases()) >= 8


@pytest.mark.parametrize(("path", "case"), _upload_cases())
def test_every_upload_of_every_operation_is_staged_privately(path: str, case: Path) -> None:
    run = run_case(path, json.loads(case.read_text(encoding="utf-8")), SUDO_DATA)
    assert [c for c in run.commands if isinstance(c, FileUploadCommand)]
    assert _unstaged(run.commands) == []


def test_the_staging_probe_finds_an_upload_pyinfra_would_stage_in_tmp() -> None:
    """The twin: an upload made without `operations.uploads` is caught."""
    assert _unstaged([FileUploadCommand("x", "/var/lib/adx-deploy/x.sql")]) == [
        "/var/lib/adx-deploy/x.sql"
    ]
