"""The command line: ``python -m tools.testhosts image|up|down|status [inventories/<env>.yml]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tools.testhosts.errors import TestHostError
from tools.testhosts.hosts import down, status, up
from tools.testhosts.image import BASE_IMAGE, ensure_base_image

if TYPE_CHECKING:
    from adxdb.inventory.model import Environment

STATUS_COLUMNS = ("container", "env", "host", "state", "address", "ports")


def load(inventory: Path) -> tuple[Environment, Path]:
    """The model and where `up` keeps the key and known_hosts: the environment's state folder,
    as the inventory loader resolves it (the YAML's ``state_dir`` included), so the deploy
    finds them. The YAML is read once."""
    from adxdb.inventory.loader import load_model_and_state_dir

    return load_model_and_state_dir(inventory)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "image":
            print(ensure_base_image())
        elif args.command == "up":
            env, default_state_dir = load(args.inventory)
            state_dir = args.state_dir or default_state_dir
            started = time.monotonic()
            result = up(env, state_dir)
            print(f"key:         {result.key_path}")
            print(f"known_hosts: {result.known_hosts_path}")
            print(f"up: {len(result.hosts)} host(s) ready in {time.monotonic() - started:.1f}s")
        elif args.command == "down":
            down(load(args.inventory)[0])
        else:
            rows = status(load(args.inventory)[0] if args.inventory else None)
            widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in STATUS_COLUMNS}
            for row in [{c: c.upper() for c in STATUS_COLUMNS}, *rows]:
                print("  ".join(row[c].ljust(widths[c]) for c in STATUS_COLUMNS).rstrip())
    except TestHostError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.testhosts",
        description="Debian 12 test hosts as containers (sshd on 127.0.0.1).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("image", help=f"ensure the base image {BASE_IMAGE}")
    for name, text in (("up", "start the hosts of an inventory"), ("down", "remove them")):
        command = commands.add_parser(name, help=text)
        command.add_argument("inventory", type=Path)
        if name == "up":
            command.add_argument(
                "--state-dir", type=Path, help="default: <repo>/.adx/<env> next to inventories/"
            )
    command = commands.add_parser("status", help="list test-host containers")
    command.add_argument("inventory", type=Path, nargs="?")
    return parser


if __name__ == "__main__":
    sys.exit(main())
