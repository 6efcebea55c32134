"""pydantic's validation errors as the inventory's own lines: `dotted.path: message`.

Never the input values (a pasted secret must not be echoed), never pydantic's internals (type
tags of union members, `function-after[...]`), one line per field: the members of a union that
all failed make one line saying what would be allowed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from adxdb.errors import ModelProblems

# pydantic error type -> what the inventory's user reads (the context fills the braces).
_WORDING = {
    "missing": "is required",
    "extra_forbidden": "unknown key (not part of the inventory format)",
    "model_type": "must be a mapping of keys, not {kind}",
    "model_attributes_type": "must be a mapping of keys, not {kind}",
    "dict_type": "must be a mapping, not {kind}",
    "list_type": "must be a list, not {kind}",
    "tuple_type": "must be a list, not {kind}",
    "string_type": "must be text, not {kind}",
    "int_type": "must be a whole number, not {kind}",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false, not {kind}",
    "bool_parsing": "must be true or false",
    "uuid_parsing": "must be a UUID (e.g. 0b6a3c0e-3f57-4a5c-9d2e-0f0e8a1c2b3d)",
    "uuid_type": "must be a UUID (e.g. 0b6a3c0e-3f57-4a5c-9d2e-0f0e8a1c2b3d)",
    "less_than_equal": "must be at most {le}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "greater_than": "must be more than {gt}",
    "too_short": "must hold at least {min_length} item(s)",
    "too_long": "must hold at most {max_length} item(s)",
    "string_too_short": "must be at least {min_length} character(s)",
    "string_too_long": "must be at most {max_length} characters",
    "literal_error": "must be {expected}",
    "path_type": "must be a path (text), not {kind}",
    "string_pattern_mismatch": "must match the pattern {pattern}",
}
_KIND = {type(None): "null", bool: "true/false", int: "a number", float: "a number"}
_KIND.update({str: "text", list: "a list", dict: "a mapping"})
# Location parts that are pydantic's own (union members, validator wrappers), not fields.
_UNION_MEMBERS = {"str", "int", "float", "bool", "none", "IPv4Network", "IPv6Network"}
# What a union member accepts, for the one line of a union whose every member failed.
_MEMBER_WORDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true/false",
    "none": "null",
    "IPv4Network": "an IPv4 network",
    "IPv6Network": "an IPv6 network",
}


def _kind(value: Any) -> str:
    return _KIND.get(type(value), type(value).__name__)


def _is_field(part: int | str) -> bool:
    text = str(part)
    return not (
        text.startswith(("function-", "lax-or-strict", "json-or-python", "nullable"))
        or text == "[key]"
        or text in _UNION_MEMBERS
    )


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _message(item: Any) -> str:
    context = dict(item.get("ctx") or {})
    template = _WORDING.get(item["type"])
    if template is None:
        return str(item["msg"])
    context.setdefault("kind", _kind(item.get("input")))
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return str(item["msg"])


def format_validation_error(error: ValidationError) -> list[str]:
    """One `path: message` line per field; the model's cross-checks keep their own paths."""
    lines: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for item in error.errors():
        inner = (item.get("ctx") or {}).get("error")
        if isinstance(inner, ModelProblems):
            for path, message in inner.problems:
                lines.setdefault(path, []).append(message)
            continue
        where = _location(tuple(p for p in item["loc"] if _is_field(p)))
        tags = [str(p) for p in item["loc"] if str(p) in _MEMBER_WORDS]
        if tags:
            members.setdefault(where, []).append(tags[-1])
        lines.setdefault(where, []).append(_message(item))
    problems: list[str] = []
    for where, messages in lines.items():
        tried = list(dict.fromkeys(members.get(where, [])))
        if len(tried) > 1 and len(messages) >= len(tried):
            # Every member of a union failed: one line for the field, naming what is allowed.
            words = [_MEMBER_WORDS[tag] for tag in tried]
            problems.append(f"{where}: must be {', '.join(words[:-1])} or {words[-1]}")
            continue
        problems.extend(f"{where}: {message}" for message in dict.fromkeys(messages))
    return problems
