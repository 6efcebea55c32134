"""The parallel integration runner (tools/integration.py) and the test environment's copies
(tests/integration/harness.py): modules dealt by expected time, copies that never overlap."""

from __future__ import annotations

import ipaddress

from tests.integration.harness import worker_inventory
from tools.integration import deal


def test_modules_are_dealt_longest_first_to_the_least_loaded_worker() -> None:
    modules = ["test_tenant_moves.py", "test_large_move.py", "test_a.py", "test_b.py"]
    groups = deal(modules, 2)
    assert groups == [["test_tenant_moves.py"], ["test_large_move.py", "test_a.py", "test_b.py"]]
    assert deal(modules, 1) == [
        ["test_tenant_moves.py", "test_large_move.py", "test_a.py", "test_b.py"]
    ]
    assert deal(["test_a.py"], 3) == [["test_a.py"]]  # no empty worker


def test_each_worker_gets_its_own_network_ports_and_state() -> None:
    base, copy = worker_inventory(0), worker_inventory(1)
    assert copy["container_network"]["name"] == f"{base['container_network']['name']}-w1"
    subnet = ipaddress.ip_network(base["container_network"]["subnet"])
    shifted = ipaddress.ip_network(copy["container_network"]["subnet"])
    assert not subnet.overlaps(shifted) and shifted.prefixlen == subnet.prefixlen
    assert copy["client_networks"] == [str(shifted)]
    for name, host in copy["hosts"].items():
        assert ipaddress.ip_address(host["address"]) in shifted
        assert host["ssh"]["port"] == base["hosts"][name]["ssh"]["port"] + 100
        if "pg_port" in base["hosts"][name]["container"]:
            assert host["container"]["pg_port"] == base["hosts"][name]["container"]["pg_port"] + 100
    assert copy["state_dir"].endswith("/.adx/test-w1")
    assert "state_dir" not in base  # worker 0 is the environment itself
