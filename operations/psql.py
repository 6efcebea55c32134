"""Build the shell commands that run SQL on a host: psql as the postgres OS user, peer auth.

Commands run as root (the SSH user, or through the host's `_sudo`); `runuser` drops to postgres,
so hosts need no sudo package. SQL that carries a secret is uploaded to a root-only folder and
fed on stdin, so it never appears in a process's argument list or in pyinfra's output.
"""

from __future__ import annotations

import hashlib
import secrets

from pyinfra.api import FileUploadCommand, HiddenValue, QuoteString, StringCommand

from operations.uploads import upload

PRIVATE_DIR = "/var/lib/adx-deploy"


def hidden(text: str) -> HiddenValue:
    """A value pyinfra masks wherever it prints a command or an argument (`*MASKED*`)."""
    return HiddenValue(text)  # type: ignore[no-untyped-call]


def psql_base(port: int, database: str) -> list[str | QuoteString]:
    return [
        "runuser",
        "-u",
        "postgres",
        "--",
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-p",
        str(int(port)),
        "-d",
        QuoteString(database),
    ]


def psql_query(port: int, database: str, query: str) -> StringCommand:
    """A catalog query whose single value is printed unaligned (for facts)."""
    return StringCommand(*psql_base(port, database), "-A", "-t", "-c", QuoteString(query))


def server_ready(port: int) -> StringCommand:
    return StringCommand("pg_isready", "-q", "-p", str(int(port)))


def if_ready(port: int, command: StringCommand, otherwise: str = "null") -> StringCommand:
    """Run `command` when the server accepts connections, else print `otherwise`."""
    return StringCommand(
        "if", server_ready(port), ";", "then", command, ";", "else", "echo", otherwise, ";", "fi"
    )


def run_sql_script(
    port: int, database: str, script: str, tag: str, lock: str | None = None
) -> list[FileUploadCommand | StringCommand]:
    """Upload `script` to the root-only folder and run it in one psql session. The file is
    opened, then removed, before psql starts: a run killed meanwhile leaves nothing behind.
    With `lock`, psql runs holding a shared lock on that path (a folder its script includes
    files from), which tells the leftovers clean-up the folder is in use."""
    # A name per run: two deploys sending the same script never remove each other's file.
    digest = hashlib.sha256(script.encode()).hexdigest()[:16]
    name = f"{PRIVATE_DIR}/{tag}-{digest}-{secrets.token_hex(4)}.sql"
    locked = ["flock", "-s", QuoteString(lock)] if lock is not None else []
    run = StringCommand(
        "{", "rm", "-f", name, ";", *locked, *psql_base(port, database), ";", "}", "<", name
    )
    return [
        StringCommand("install", "-d", "-m", "0700", "-o", "root", "-g", "root", PRIVATE_DIR),
        upload(script, name),
        run,
    ]


def psql_script_query(port: int, script: str, **variables: str | HiddenValue) -> StringCommand:
    """Feed a psql script (meta-commands allowed) on stdin; print its results unaligned. A
    `HiddenValue` variable is masked wherever pyinfra prints the command; it must be a plain
    token (letters, digits), as it is not shell-quoted."""
    settings: list[str | QuoteString | HiddenValue] = []
    for key, value in variables.items():
        if isinstance(value, HiddenValue):
            token = value.unmask()
            if not token.isalnum():
                raise ValueError(f"psql variable {key}: a hidden value must be a plain token")
            settings += ["-v", hidden(f"{key}={token}")]
        else:
            settings += ["-v", QuoteString(f"{key}={value}")]
    return StringCommand(
        "printf",
        "%s",
        QuoteString(script + "\n"),
        "|",
        *psql_base(port, "postgres"),
        "-A",
        "-t",
        *settings,
    )
