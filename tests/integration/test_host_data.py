"""pyinfra's host data is JSON-native and free of secrets: `debug-inventory` works and prints
no password, no TLS private key and no SCRAM verifier, and neither does its debug log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.conftest import HostsUnderTest
from tests.integration.harness import STATE_DIR, TEST_YML, VENV_BIN

SECRET_MARKERS = ("PRIVATE KEY", "SCRAM-SHA-256$")


def environment_secrets() -> list[str]:
    """Every secret of the test environment: passwords, TLS keys (the CA's included)."""
    values = [path.read_text().strip() for path in (STATE_DIR / "secrets").glob("*.password")]
    values += [path.read_text().strip() for path in (STATE_DIR / "tls").glob("*.key")]
    return values


def leaked(text: str, secrets: list[str]) -> list[str]:
    """The secrets (or secret markers) that `text` shows, named by their first characters."""
    found = [secret[:12] + "..." for secret in secrets if secret and secret in text]
    found += [marker for marker in SECRET_MARKERS if marker in text]
    return found


def test_debug_inventory_exits_0_and_shows_no_secret(
    test_env: HostsUnderTest, tmp_path: Path
) -> None:
    log = tmp_path / "pyinfra-debug.log"
    completed = subprocess.run(
        [str(VENV_BIN / "pyinfra"), "-vvv", str(test_env.inventory), "debug-inventory"],
        cwd=tmp_path,  # pyinfra writes pyinfra-debug.log into its working folder
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert '"adx_host": "pg1"' in output and '"adx_host": "tenant1"' in output
    secrets = environment_secrets()
    assert len(secrets) >= 10  # nine passwords and the TLS keys
    assert leaked(output, secrets) == []
    if log.exists():
        assert leaked(log.read_text(), secrets) == []


def test_the_leak_probe_finds_a_secret_it_is_shown() -> None:
    """Negative twin: the probe reports a password, a key and a verifier when they are there."""
    secrets = environment_secrets()
    key = next(s for s in secrets if "PRIVATE KEY" in s)
    text = f"data: {secrets[0]} {key} SCRAM-SHA-256$4096:abc"
    assert len(leaked(text, secrets)) >= 4


def test_the_inventory_object_shows_no_secret_in_its_repr(test_env: HostsUnderTest) -> None:
    """The loaded inventory and the host plans (what the deploy holds in memory) print none."""
    from adxdb.inventory.loader import load_inventory
    from adxdb.plan.host import RunInfo, host_plan

    inventory = load_inventory(TEST_YML)
    texts = [repr(inventory)]
    texts += [repr(host_plan(inventory, name, RunInfo.now())) for name in inventory.env.hosts]
    secrets = environment_secrets()
    for text in texts:
        assert leaked(text, secrets) == []
    assert "pg1" in texts[0]
