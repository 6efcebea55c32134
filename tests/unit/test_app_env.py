"""`adxdb app-env`'s DATABASE_URL: the primary, or every member of an HA main cluster."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from adxdb.inventory.loader import load_inventory
from adxdb.plan.app_env import database_url, job_command, render_app_env
from tests.unit.test_inventory import base, write


def _host(i: int, groups: list[str]) -> dict[str, object]:
    return {
        "address": f"10.0.0.{9 + i}",
        "ssh": {"hostname": "127.0.0.1", "port": 22000 + i},
        "groups": groups,
        "container": {"pg_port": 55000 + i},
    }


def test_an_ha_cluster_url_names_every_member_and_asks_for_the_writable_one(
    tmp_path: Path,
) -> None:
    data = base(hosts={f"pg{i}": _host(i, ["main"]) for i in (1, 2, 3)})
    url = urlsplit(database_url(load_inventory(write(tmp_path, data))))
    assert url.netloc.split("@")[1] == "127.0.0.1:55001,127.0.0.1:55002,127.0.0.1:55003"
    query = parse_qs(url.query)
    assert query["target_session_attrs"] == ["read-write"]
    assert query["sslmode"] == ["verify-full"]
    read = urlsplit(database_url(load_inventory(write(tmp_path, data)), read_only=True))
    assert read.netloc == url.netloc
    assert parse_qs(read.query)["target_session_attrs"] == ["prefer-standby"]


def test_a_single_primary_url_names_it_alone(tmp_path: Path) -> None:
    """Negative twin: one primary, one address, no session attribute."""
    data = base(hosts={"pg1": _host(1, ["primary"])})
    url = urlsplit(database_url(load_inventory(write(tmp_path, data))))
    assert url.netloc.split("@")[1] == "127.0.0.1:55001"
    assert "target_session_attrs" not in parse_qs(url.query)
    inventory = load_inventory(write(tmp_path, data))
    assert database_url(inventory, read_only=True) == database_url(inventory)


def test_the_monitoring_url_connects_as_adx_monitor_to_the_same_hosts(tmp_path: Path) -> None:
    data = base(hosts={f"pg{i}": _host(i, ["main"]) for i in (1, 2, 3)})
    inventory = load_inventory(write(tmp_path, data))
    app, monitor = database_url(inventory), database_url(inventory, role="adx_monitor")
    assert urlsplit(monitor).username == "adx_monitor"
    assert urlsplit(app).username == "adx_app"  # the twin
    assert urlsplit(monitor).hostname == urlsplit(app).hostname
    assert parse_qs(urlsplit(monitor).query) == parse_qs(urlsplit(app).query)
    text = render_app_env(inventory)
    assert "MONITOR_DATABASE_URL='postgresql://adx_monitor:" in text
    assert '--dsn "$MONITOR_DATABASE_URL"' in job_command(tmp_path / "app.env")
