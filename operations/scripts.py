"""The shell scripts of `operations/files/` run in one command: `bash -c BODY NAME ARGS...`,
so a host needs no upload for them (the body without its comment lines, arguments quoted)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pyinfra.api import QuoteString, StringCommand

FILES = Path(__file__).parent / "files"


@cache
def body(name: str) -> str:
    text = (FILES / name).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if line and not line.startswith("#"))


def inline_script(name: str, *args: str) -> StringCommand:
    """Run `operations/files/<name>` with `args` (each one shell-quoted)."""
    return StringCommand(
        "bash", "-c", QuoteString(body(name)), name, *(QuoteString(a) for a in args)
    )
