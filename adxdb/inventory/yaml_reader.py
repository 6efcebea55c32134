"""Read an inventory file strictly: UTF-8, one mapping, no duplicate keys, no aliases.

PyYAML keeps the last of two equal keys silently and expands aliases into shared objects (a
few lines can stand for an exponential amount of data); an inventory allows neither. Every
problem is one line naming the file, the line and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adxdb.errors import InventoryError

# libyaml's parser where PyYAML was built with it (its wheels are): the same safe subset of
# YAML, an order of magnitude faster on an inventory of a thousand tenants.
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _where(mark: yaml.Mark | None) -> str:
    return "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}"


class _StrictLoader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing duplicate keys and aliases."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "the value anchored here (&name) is used again through an alias (*name): "
                "anchors and aliases are not allowed in an inventory; write the value out",
                node.start_mark,
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    first = None
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} repeats the key at {_where(first.start_mark)}",
                        key_node.start_mark,
                    )
                try:
                    seen[key] = key_node
                except TypeError:
                    pass
            # Keys are constructed again by the base class: forget them, or the alias check
            # above would take the second construction for an alias.
            for key_node, _value in node.value:
                self.constructed_objects.pop(key_node, None)
        return dict(super().construct_mapping(node, deep=deep))


def read_yaml(path: Path) -> dict[str, Any]:
    """The inventory file's mapping, or an InventoryError saying where it cannot be read."""
    if not path.is_file():
        raise InventoryError(path, [f"{path}: inventory file not found"])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InventoryError(
            path, [f"{path}: not UTF-8 text (byte {error.start + 1}, line {line})"]
        ) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        where, problem = "", "cannot be parsed"
        if isinstance(error, yaml.MarkedYAMLError):
            if error.problem_mark is not None:
                where = f" at {_where(error.problem_mark)}"
            problem = error.problem or problem
        raise InventoryError(path, [f"{path}: not valid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise InventoryError(path, [f"{path}: must hold a mapping of inventory keys"])
    return data
