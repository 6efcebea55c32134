"""Every script the operations upload (`operations/files/*.sh`) is shellcheck-clean.

shellcheck is installed by `tools/host-setup.sh`; the negative twin shows the probe can fail.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parents[2] / "operations" / "files").glob("*.sh"))


def _shellcheck(script: Path) -> subprocess.CompletedProcess[str]:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, "shellcheck is missing: run tools/host-setup.sh"
    return subprocess.run(
        [shellcheck, "--shell=bash", "--external-sources", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_there_are_scripts_to_check() -> None:
    assert "tenant_move.sh" in [script.name for script in SCRIPTS]  # the probe finds scripts


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_script_is_shellcheck_clean(script: Path) -> None:
    checked = _shellcheck(script)
    assert (checked.returncode, checked.stdout) == (0, "")


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_script_is_strict_bash(script: Path) -> None:
    lines = script.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines


def test_shellcheck_flags_a_known_bad_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nset -euo pipefail\nrm $1\n", encoding="utf-8")
    checked = _shellcheck(bad)
    assert checked.returncode != 0
    assert "SC2086" in checked.stdout  # double quote to prevent globbing and word splitting
