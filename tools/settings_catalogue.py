"""Generate the settings catalogue of a PostgreSQL major version (DESIGN.md decision 9).

``python -m tools.settings_catalogue 15`` (run from the repository root, as root) starts a
scratch server of that version from ``/usr/lib/postgresql/<version>/bin``: initdb into a
temporary folder owned by the ``postgres`` OS user, run as that user, listening only on a unix
socket in that folder (no TCP), with the extensions DBAs configure preloaded so that their
settings appear. It reads ``pg_settings`` and writes ``adxdb/inventory/pg_settings/<version>.json``
in the format `adxdb.inventory.settings_catalogue` reads, then stops the server and removes
the folder, on failure too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adxdb.inventory.settings_data import (
    CATALOGUE_DIR,
    FORMAT,
    CatalogueFormatError,
    parse_catalogue,
    parse_unit,
)

# Extensions whose settings DBAs set; loaded through shared_preload_libraries.
EXTENSIONS = ("pg_stat_statements",)
OS_USER = "postgres"
PORT = 5432

# One row: the server's version and every setting, as JSON (psql prints it on one line).
QUERY = (
    "SELECT json_build_object('server_version', current_setting('server_version'),"
    " 'server_version_num', current_setting('server_version_num')::int,"
    " 'settings', (SELECT json_agg(json_build_object('name', name, 'vartype', vartype,"
    " 'unit', unit, 'min_val', min_val, 'max_val', max_val, 'enumvals', enumvals,"
    " 'context', context) ORDER BY name) FROM pg_settings))"
)


class CatalogueError(RuntimeError):
    """The scratch server could not be run or gave rows this tool does not understand."""


def catalogue_json(version: int, server_version: str, rows: Iterable[Mapping[str, Any]]) -> str:
    """The catalogue file's text from pg_settings rows (name, vartype, unit, min_val,
    max_val, enumvals, context; min_val and max_val as text, as pg_settings gives them)."""
    settings: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = str(row["name"]).lower()
        settings[name] = _setting(name, row)
    extensions = sorted({name.partition(".")[0] for name in settings if "." in name})
    head = json.dumps(
        {
            "extensions": extensions,
            "format": FORMAT,
            "server_version": server_version,
            "version": version,
        },
        sort_keys=True,
    )
    # One setting per line: small, and a regenerated catalogue diffs line by line.
    lines = [
        f"  {json.dumps(name)}: {json.dumps(entry, sort_keys=True)}"
        for name, entry in sorted(settings.items())
    ]
    return head[:-1] + ', "settings": {\n' + ",\n".join(lines) + "\n}}\n"


def _setting(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    kind = row["vartype"]
    entry: dict[str, Any] = {"context": row["context"], "type": kind}
    if kind in ("integer", "real"):
        number = int if kind == "integer" else float
        try:
            entry["min"] = number(row["min_val"])
            entry["max"] = number(row["max_val"])
        except (TypeError, ValueError):
            raise CatalogueError(f"{name}: range {row['min_val']!r}..{row['max_val']!r}") from None
        if row.get("unit"):
            try:
                parse_unit(row["unit"])
            except ValueError as error:
                raise CatalogueError(f"{name}: {error}") from None
            entry["unit"] = row["unit"]
    elif kind == "enum":
        entry["values"] = list(row["enumvals"] or [])
    elif kind not in ("bool", "string"):
        raise CatalogueError(f"{name}: unknown vartype {kind!r}")
    return entry


def _run(argv: Sequence[str], what: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CatalogueError(f"{what} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _as_postgres(*argv: str) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *argv]


@contextmanager
def scratch_server(bindir: Path) -> Iterator[Path]:
    """A server on a unix socket in a folder of its own; yields the socket folder. The server
    is stopped and the folder removed on the way out, whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="adx-pg-settings-"))
    started = False
    try:
        shutil.chown(folder, OS_USER, OS_USER)
        data = folder / "data"
        _run(
            _as_postgres(
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "peer",
                "-N",
                "-E",
                "UTF8",
                "--locale=C",
            ),
            "initdb",
        )
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# tools.settings_catalogue: a unix socket in its own folder, no TCP\n"
                "listen_addresses = ''\n"
                f"port = {PORT}\n"
                f"unix_socket_directories = '{folder}'\n"
                f"shared_preload_libraries = '{','.join(EXTENSIONS)}'\n"
            )
        started = True
        _run(
            _as_postgres(
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ),
            "pg_ctl start",
        )
        yield folder
    finally:
        if started:
            _stop(bindir, folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


def _stop(bindir: Path, data: Path) -> None:
    for mode in ("fast", "immediate"):
        stop = _as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop")
        if subprocess.run(stop, capture_output=True, check=False).returncode == 0:
            return


def read_settings(bindir: Path, socket_dir: Path) -> dict[str, Any]:
    out = _run(
        _as_postgres(
            str(bindir / "psql"),
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(socket_dir),
            "-p",
            str(PORT),
            "-d",
            "postgres",
            "-c",
            QUERY,
        ),
        "psql",
    )
    result = json.loads(out)
    if not isinstance(result, dict):
        raise CatalogueError("pg_settings query returned no object")
    return result


def generate(version: int, bindir: Path, output: Path) -> tuple[Path, int]:
    """Run the scratch server, write the catalogue; the path and number of settings."""
    if not (bindir / "postgres").is_file():
        raise CatalogueError(f"no PostgreSQL {version} server in {bindir}")
    with scratch_server(bindir) as socket_dir:
        result = read_settings(bindir, socket_dir)
    if result["server_version_num"] // 10000 != version:
        raise CatalogueError(f"{bindir} runs PostgreSQL {result['server_version']}")
    text = catalogue_json(version, result["server_version"], result["settings"])
    try:
        written = parse_catalogue(text)
    except CatalogueFormatError as error:
        raise CatalogueError(f"the generated catalogue does not load: {error}") from None
    missing = set(EXTENSIONS) - written.extensions
    if missing:
        raise CatalogueError(f"no settings of {', '.join(sorted(missing))} in pg_settings")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return output, len(written.settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.settings_catalogue",
        description="Generate adxdb/inventory/pg_settings/<version>.json from a scratch server.",
    )
    parser.add_argument("version", type=int, help="PostgreSQL major version, e.g. 15")
    parser.add_argument("--bindir", type=Path, help="default: /usr/lib/postgresql/<version>/bin")
    parser.add_argument("--output", type=Path, help="default: adxdb/inventory/pg_settings/")
    args = parser.parse_args(argv)
    bindir = args.bindir or Path(f"/usr/lib/postgresql/{args.version}/bin")
    output = args.output or CATALOGUE_DIR / f"{args.version}.json"
    try:
        path, count = generate(args.version, bindir, output)
    except CatalogueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{path}: {count} settings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
