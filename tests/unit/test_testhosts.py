"""The pure parts of the test-host tooling: apt sources, SSH keys, known_hosts, checks."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from adxdb.inventory.model import Environment
from tools.testhosts import apt, engine, hosts, keys
from tools.testhosts.__main__ import load
from tools.testhosts.apt import AptSource
from tools.testhosts.errors import TestHostError

DEB822 = """\
Types: deb deb-src
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: https://vendor.example/node_20.x
Suites: nodistro
Components: main
Architectures: amd64

Types: deb
URIs: http://mirror.example/debian
Suites: bookworm-backports
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
"""

ONE_LINE = """\
# the main archive
deb http://mirror.example/debian bookworm main
deb-src http://mirror.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/debian bookworm-updates main non-free-firmware
deb [ trusted=yes ] http://mirror.example/debian-security bookworm-security main  # comment
deb https://packages.vendor.example/apt cloud-sdk-bookworm main
deb cdrom:[Debian GNU/Linux 12]/ bookworm main
"""  # noqa: E501


def test_one_line_sources_are_parsed() -> None:
    sources = apt.parse_one_line_sources(ONE_LINE)
    assert [s.types for s in sources] == [("deb",), ("deb-src",), ("deb",), ("deb",)] + [
        ("deb",)
    ] * 2
    assert sources[0] == AptSource(
        types=("deb",),
        uris=("http://mirror.example/debian",),
        suites=("bookworm",),
        components=("main",),
    )
    assert sources[2].options == (
        ("Architectures", "amd64"),
        ("Signed-By", "/usr/share/keyrings/x.gpg"),
    )
    assert sources[2].components == ("main", "non-free-firmware")
    assert sources[3].option("trusted") == "yes"
    assert sources[3].components == ("main",)


def test_deb822_sources_are_parsed_and_disabled_stanzas_skipped() -> None:
    sources = apt.parse_deb822_sources(DEB822)
    assert len(sources) == 4
    assert sources[0].types == ("deb", "deb-src")
    assert sources[0].suites == ("bookworm", "bookworm-updates")
    assert sources[0].components == ("main", "contrib")
    assert sources[0].option("signed-by") == "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert all("disabled.example" not in s.uris[0] for s in sources)


def test_deb822_continuation_lines_survive_a_round_trip() -> None:
    text = (
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n"
        "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBGPL\n"
        " -----END PGP PUBLIC KEY BLOCK-----\n"
    )
    (source,) = apt.parse_deb822_sources(text)
    assert source.option("Signed-By") == (
        "\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGPL\n-----END PGP PUBLIC KEY BLOCK-----"
    )
    assert apt.parse_deb822_sources(apt.render_deb822([source])) == [source]


def test_only_binary_bookworm_suites_are_kept() -> None:
    sources = apt.parse_deb822_sources(DEB822) + apt.parse_one_line_sources(ONE_LINE)
    kept = apt.bookworm_sources(sources)
    assert [(s.uris[0], s.suites) for s in kept] == [
        ("http://mirror.example/debian", ("bookworm", "bookworm-updates")),
        ("http://mirror.example/debian-security", ("bookworm-security",)),
        ("http://mirror.example/debian", ("bookworm",)),
        ("http://mirror.example/debian", ("bookworm-updates",)),
        ("http://mirror.example/debian-security", ("bookworm-security",)),
    ]
    assert all(s.types == ("deb",) for s in kept)


def test_rendered_deb822_reads_back_the_same() -> None:
    kept = apt.bookworm_sources(apt.parse_deb822_sources(DEB822))
    text = apt.render_deb822(kept)
    assert text.startswith(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\nTypes: deb\n"
    )
    assert apt.parse_deb822_sources(text) == kept


def test_read_apt_sources_reads_both_formats_and_ignores_other_files(tmp_path: Path) -> None:
    parts = tmp_path / "etc/apt/sources.list.d"
    parts.mkdir(parents=True)
    (tmp_path / "etc/apt/sources.list").write_text(
        "deb http://mirror.example/debian bookworm main\n"
    )
    (parts / "debian.sources").write_text(DEB822)
    (parts / "vendor.list").write_text("deb https://vendor.example/apt stable main\n")
    (parts / "other.sources.disabled").write_text(DEB822.replace("mirror.", "other."))
    sources = apt.read_apt_sources(tmp_path)
    assert len(sources) == 3
    assert {u for s in sources for u in s.uris} == {
        "http://mirror.example/debian",
        "http://mirror.example/debian-security",
    }


def test_debootstrap_mirror_is_the_source_of_bookworm_main() -> None:
    kept = apt.bookworm_sources(apt.parse_deb822_sources(DEB822))
    assert apt.debootstrap_mirror(reversed(kept)) == "http://mirror.example/debian"
    with pytest.raises(TestHostError, match="bookworm main"):
        apt.debootstrap_mirror(kept[1:])


def test_apt_conf_overrides_pick_the_validity_settings_only() -> None:
    dump = (
        'APT::Architecture "amd64";\n'
        'Acquire::Check-Valid-Until "false";\n'
        'Acquire::Check-Date "false";\n'
        'Acquire::http::Proxy "http://127.0.0.1:3142";\n'
    )
    assert apt.apt_conf_overrides(dump) == (
        'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n'
    )
    assert apt.apt_conf_overrides('APT::Architecture "amd64";\n') == ""


def test_apt_files_are_the_sources_and_the_settings_when_there_are_any() -> None:
    kept = apt.bookworm_sources(apt.parse_deb822_sources(DEB822))
    assert apt.apt_files(kept, "") == {
        "etc/apt/sources.list.d/debian.sources": apt.render_deb822(kept)
    }
    files = apt.apt_files(kept, 'Acquire::Check-Valid-Until "false";\n')
    assert files["etc/apt/apt.conf.d/99adx-host"].endswith('Acquire::Check-Valid-Until "false";\n')
    assert files["etc/apt/apt.conf.d/99adx-host"].startswith("// ")


def test_signed_by_keyrings_missing_from_the_new_root_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "usr/share/keyrings").mkdir(parents=True)
    (tmp_path / "usr/share/keyrings/debian-archive-keyring.gpg").write_bytes(b"")
    present, missing = apt.bookworm_sources(apt.parse_deb822_sources(DEB822))[:2]
    missing = AptSource(
        missing.types,
        missing.uris,
        missing.suites,
        missing.components,
        (
            ("Signed-By", "/usr/share/keyrings/other.gpg"),
            ("Architectures", "amd64"),
        ),
    )
    assert apt.without_missing_keyrings([present, missing], tmp_path) == [
        present,
        AptSource(
            missing.types,
            missing.uris,
            missing.suites,
            missing.components,
            (("Architectures", "amd64"),),
        ),
    ]


def test_generated_key_pair_is_ed25519_in_openssh_format() -> None:
    private, public_line = keys.generate_ssh_keypair("someone@example")
    assert private.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
    key = serialization.load_ssh_private_key(private, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    kind, blob, comment = public_line.split()
    assert (kind, comment) == ("ssh-ed25519", "someone@example")
    public = serialization.load_ssh_public_key(f"{kind} {blob}".encode())
    assert isinstance(public, Ed25519PublicKey)
    raw = serialization.Encoding.Raw
    assert public.public_bytes(
        raw, serialization.PublicFormat.Raw
    ) == key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)


def test_ssh_key_is_made_once_with_private_modes(tmp_path: Path) -> None:
    path = keys.ensure_ssh_key(tmp_path / "test")
    assert path == tmp_path / "test/ssh/id_ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = (path.read_bytes(), Path(f"{path}.pub").read_bytes())
    assert keys.ensure_ssh_key(tmp_path / "test") == path
    assert (path.read_bytes(), Path(f"{path}.pub").read_bytes()) == first


def test_a_missing_public_key_is_rebuilt_from_the_private_one(tmp_path: Path) -> None:
    path = keys.ensure_ssh_key(tmp_path / "test")
    public = Path(f"{path}.pub")
    kind, blob, _ = public.read_text().split()
    public.unlink()
    assert keys.ensure_ssh_key(tmp_path / "test") == path
    assert public.read_text() == f"{kind} {blob} adx-testhosts\n"
    assert stat.S_IMODE(public.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("hostname", "port", "expected"),
    [
        ("127.0.0.1", 22290, "[127.0.0.1]:22290 ssh-ed25519 AAAAC3Nz\n"),
        ("db.example", 22, "db.example ssh-ed25519 AAAAC3Nz\n"),
    ],
)
def test_known_hosts_line_drops_the_key_comment(hostname: str, port: int, expected: str) -> None:
    assert keys.known_hosts_line(hostname, port, "ssh-ed25519 AAAAC3Nz root@pg1\n") == expected


def test_known_hosts_line_refuses_what_is_not_a_public_key() -> None:
    with pytest.raises(TestHostError, match="not an SSH public key"):
        keys.known_hosts_line("127.0.0.1", 22290, "cat: no such file\n")


def _environment(**hosts: Any) -> Environment:
    return Environment.model_validate(
        {
            "name": "test",
            "tls": {"mode": "generate"},
            "container_network": {"name": "adx-unit", "subnet": "172.30.251.0/24"},
            "hosts": hosts,
        }
    )


def test_check_environment_accepts_distinct_addresses_and_ports() -> None:
    env = _environment(
        pg1={"address": "172.30.251.10", "ssh": {"hostname": "127.0.0.1", "port": 22290}},
        pg2={
            "address": "172.30.251.11",
            "ssh": {"hostname": "127.0.0.1", "port": 22291},
            "groups": ["tenant_hosts"],
            "container": {"pg_port": 55491},
        },
    )
    assert hosts.check_environment(env) == []


def test_check_environment_names_gateway_and_repeated_ports() -> None:
    env = _environment(
        pg1={"address": "172.30.251.1", "ssh": {"hostname": "127.0.0.1", "port": 22290}},
        pg2={
            "address": "172.30.251.11",
            "ssh": {"hostname": "127.0.0.1", "port": 22291},
            "groups": ["tenant_hosts"],
            "container": {"pg_port": 22290},
        },
    )
    assert hosts.check_environment(env) == [
        "hosts.pg1.address: 172.30.251.1 is the network's gateway",
        "hosts.pg2.container.pg_port: 22290 is already used by pg1",
    ]


def test_names_and_state_dir() -> None:
    repo = Path(__file__).resolve().parents[2]
    env = load(repo / "inventories" / "test.yml")[0]
    assert hosts.container_name(env, "pg1") == "adx-test-pg1"
    repo = Path(__file__).resolve().parents[2]
    inventory = repo / "inventories" / "test.yml"
    assert load(inventory)[1] == repo / ".adx/test"


def test_tar_files_are_owned_by_root_with_their_modes() -> None:
    data = engine.tar_files({"authorized_keys": (b"ssh-ed25519 AAAA\n", 0o600)})
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        (member,) = archive.getmembers()
        handle = archive.extractfile(member)
        assert handle is not None
        assert (member.name, member.mode, member.uid, handle.read()) == (
            "authorized_keys",
            0o600,
            0,
            b"ssh-ed25519 AAAA\n",
        )


def test_get_or_none_turns_not_found_into_none() -> None:
    not_found = engine.not_found()

    class Collection:
        def get(self, name: str) -> str:
            if name != "there":
                raise not_found(f"no such object: {name}")
            return name

    assert engine.get_or_none(Collection(), "there") == "there"
    assert engine.get_or_none(Collection(), "gone") is None


class _Container:
    name = "adx-test-pg1"

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        if self.failures:
            raise RuntimeError(self.failures.pop(0))


def test_a_start_is_tried_again_while_a_published_port_is_in_use() -> None:
    from tools.testhosts.hosts import start_when_ports_are_free

    busy = "listen tcp4 127.0.0.1:55620: bind: address already in use"
    container = _Container([busy, busy])
    lines: list[str] = []
    start_when_ports_are_free(container, lines.append, tries=5, sleep=0)
    assert container.starts == 3 and len(lines) == 2 and "in use" in lines[0]


def test_another_start_error_or_a_port_busy_too_long_is_raised() -> None:
    from tools.testhosts.hosts import start_when_ports_are_free

    other = _Container(["no such image"])
    with pytest.raises(RuntimeError, match="no such image"):
        start_when_ports_are_free(other, lambda line: None, tries=5, sleep=0)
    assert other.starts == 1
    stuck = _Container(["address already in use"] * 9)
    with pytest.raises(RuntimeError, match="in use"):
        start_when_ports_are_free(stuck, lambda line: None, tries=3, sleep=0)
    assert stuck.starts == 3
