"""This machine's apt sources and settings, carried into the base image.

The image's Debian 12 sources are read from this machine at run time (``sources.list``, one-line
``*.list`` and deb822 ``*.sources``), never written into the code; the Valid-Until settings of
``apt-config dump`` come along so that a mirror serving a dated snapshot works inside as well.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tools.testhosts.errors import TestHostError

BOOKWORM_SUITES = ("bookworm", "bookworm-updates", "bookworm-security")

# apt.conf settings copied from this machine into the hosts, so that `apt-get update` inside
# them behaves as it does here (a mirror serving a dated snapshot needs the Valid-Until ones).
APT_CONF_KEYS = (
    "Acquire::Check-Valid-Until",
    "Acquire::Check-Date",
    "Acquire::Max-FutureTime",
)
_APT_CONF_HEADER = "// copied from the machine that built this image (tools.testhosts)\n"

# where the image keeps them, relative to its root
SOURCES_FILE = "etc/apt/sources.list.d/debian.sources"
APT_CONF_FILE = "etc/apt/apt.conf.d/99adx-host"

_DEB822_FIELDS = {"types": "Types", "uris": "URIs", "suites": "Suites", "components": "Components"}
# one-line `[option=value]` names and their deb822 field names (sources.list(5))
_ONE_LINE_OPTIONS = {
    "arch": "Architectures",
    "lang": "Languages",
    "target": "Targets",
    "pdiffs": "PDiffs",
    "by-hash": "By-Hash",
    "allow-insecure": "Allow-Insecure",
    "allow-weak": "Allow-Weak",
    "allow-downgrade-to-insecure": "Allow-Downgrade-To-Insecure",
    "trusted": "Trusted",
    "signed-by": "Signed-By",
    "check-valid-until": "Check-Valid-Until",
    "valid-until-min": "Valid-Until-Min",
    "valid-until-max": "Valid-Until-Max",
    "check-date": "Check-Date",
    "date-max-future": "Date-Max-Future",
    "inrelease-path": "InRelease-Path",
}


@dataclass(frozen=True)
class AptSource:
    """One apt source entry, in deb822 terms (sources.list(5))."""

    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    # other fields (Signed-By, Architectures, ...) in their deb822 spelling, in input order
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str) -> str | None:
        for key, value in self.options:
            if key.lower() == name.lower():
                return value
        return None


def parse_one_line_sources(text: str) -> list[AptSource]:
    """Parse the one-line format of ``sources.list`` / ``*.list``."""
    sources: list[AptSource] = []
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        options: list[tuple[str, str]] = []
        rest = rest.strip()
        if rest.startswith("["):
            inside, closing, rest = rest[1:].partition("]")
            if not closing:
                continue  # malformed; apt would refuse it too
            for option in inside.split():
                name, equals, value = option.partition("=")
                if not equals:
                    continue
                name = name.rstrip("+-").lower()
                options.append((_ONE_LINE_OPTIONS.get(name, name), value.replace(",", " ")))
        words = rest.split()
        if kind not in ("deb", "deb-src") or len(words) < 2:
            continue
        sources.append(
            AptSource(
                types=(kind,),
                uris=(words[0],),
                suites=(words[1],),
                components=tuple(words[2:]),
                options=tuple(options),
            )
        )
    return sources


def parse_deb822_sources(text: str) -> list[AptSource]:
    """Parse the deb822 format of ``*.sources``; stanzas with ``Enabled: no`` are skipped."""
    sources: list[AptSource] = []
    for stanza in _deb822_stanzas(text):
        fields = {key.lower(): (key, value) for key, value in stanza}
        if fields.get("enabled", ("", "yes"))[1].strip().lower() == "no":
            continue
        wanted = {name: fields.get(name, ("", ""))[1].split() for name in _DEB822_FIELDS}
        if not (wanted["types"] and wanted["uris"] and wanted["suites"]):
            continue
        options = tuple(
            (key, value)
            for lowered, (key, value) in fields.items()
            if lowered not in _DEB822_FIELDS and lowered != "enabled"
        )
        sources.append(
            AptSource(
                types=tuple(wanted["types"]),
                uris=tuple(wanted["uris"]),
                suites=tuple(wanted["suites"]),
                components=tuple(wanted["components"]),
                options=options,
            )
        )
    return sources


def _deb822_stanzas(text: str) -> Iterator[list[tuple[str, str]]]:
    stanza: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza = []
        elif line[0] in " \t":
            if stanza:  # continuation: a lone "." stands for an empty line
                key, value = stanza[-1]
                more = line.strip()
                stanza[-1] = (key, f"{value}\n{'' if more == '.' else more}")
        else:
            key, _, value = line.partition(":")
            stanza.append((key.strip(), value.strip()))
    if stanza:
        yield stanza


def bookworm_sources(sources: Iterable[AptSource]) -> list[AptSource]:
    """The binary Debian 12 entries: suites bookworm, -updates, -security; nothing else."""
    kept: list[AptSource] = []
    for source in sources:
        suites = tuple(s for s in source.suites if s in BOOKWORM_SUITES)
        if "deb" not in source.types or not suites:
            continue
        uris = tuple(u for u in source.uris if u.split(":", 1)[0] in ("http", "https"))
        if uris:
            kept.append(replace(source, types=("deb",), uris=uris, suites=suites))
    return kept


def render_deb822(sources: Iterable[AptSource]) -> str:
    stanzas: list[str] = []
    for source in sources:
        lines = [
            f"Types: {' '.join(source.types)}",
            f"URIs: {' '.join(source.uris)}",
            f"Suites: {' '.join(source.suites)}",
        ]
        if source.components:
            lines.append(f"Components: {' '.join(source.components)}")
        for key, value in source.options:
            first, *more = value.split("\n")
            lines.append(f"{key}: {first}".rstrip())
            lines.extend(f" {line}" if line.strip() else " ." for line in more)
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas)


def debootstrap_mirror(sources: Iterable[AptSource]) -> str:
    """The mirror holding suite ``bookworm`` with ``main``: where debootstrap fetches from."""
    for source in sources:
        if "deb" in source.types and "bookworm" in source.suites and "main" in source.components:
            return source.uris[0]
    raise TestHostError(
        "no apt source of this machine serves 'bookworm main': cannot choose a mirror "
        "for debootstrap (see /etc/apt/sources.list and /etc/apt/sources.list.d/)"
    )


def read_apt_sources(root: Path = Path("/")) -> list[AptSource]:
    """This machine's Debian 12 apt sources, in the order apt reads them."""
    etc_apt = root / "etc" / "apt"
    sources: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        sources.extend(parse_one_line_sources(main_list.read_text()))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.name.endswith(".list"):
                sources.extend(parse_one_line_sources(path.read_text()))
            elif path.name.endswith(".sources"):
                sources.extend(parse_deb822_sources(path.read_text()))
    return bookworm_sources(sources)


def without_missing_keyrings(sources: Iterable[AptSource], root: Path) -> list[AptSource]:
    """``sources`` less the Signed-By keyring files that do not exist below ``root``.

    A Signed-By keyring must exist in the new system; without one apt falls back to
    /etc/apt/trusted.gpg.d, which debian-archive-keyring fills.
    """
    return [
        replace(
            source,
            options=tuple(
                (key, value)
                for key, value in source.options
                if not (
                    key.lower() == "signed-by"
                    and value.startswith("/")
                    and not (root / value.lstrip("/")).exists()
                )
            ),
        )
        for source in sources
    ]


def apt_conf_overrides(dump: str, keys: Sequence[str] = APT_CONF_KEYS) -> str:
    """The lines of ``apt-config dump`` output that set one of ``keys``."""
    wanted = {key.lower() for key in keys}
    lines = [
        line.strip()
        for line in dump.splitlines()
        if line.strip().split(" ", 1)[0].lower() in wanted
    ]
    return "".join(f"{line}\n" for line in lines)


def read_apt_conf_overrides() -> str:
    apt_config = shutil.which("apt-config")
    if apt_config is None:
        return ""
    result = subprocess.run([apt_config, "dump"], capture_output=True, text=True, check=False)
    return apt_conf_overrides(result.stdout) if result.returncode == 0 else ""


def apt_files(sources: Iterable[AptSource], apt_conf: str) -> dict[str, str]:
    """The image's apt files, ``{path relative to its root: text}``: sources, then settings."""
    files = {SOURCES_FILE: render_deb822(sources)}
    if apt_conf:
        files[APT_CONF_FILE] = _APT_CONF_HEADER + apt_conf
    return files
