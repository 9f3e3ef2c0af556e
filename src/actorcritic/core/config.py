"""Configs as plain data: to and from dicts, from TOML / YAML / JSON files, and from ``key=value`` flags."""

from __future__ import annotations

import ast
import dataclasses
import json
import tomllib
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from actorcritic.errors import UserError


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as JSON-ready data (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def config_from_dict(cls: type, data: dict[str, Any], source: str = "config") -> Any:
    """Build ``cls`` from a dict; unknown keys and bad values are user errors."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise UserError(f"unknown {cls.__name__} field(s) in {source}: {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        if isinstance(value, list) and typing.get_origin(hints[key]) is tuple:
            value = tuple(value)
        if isinstance(value, float) and value.is_integer() and not _fits(value, hints[key]):
            value = int(value)  # 1e6 for an int field, as TOML and JSON read it (a float field keeps its float)
        if not _fits(value, hints[key]):
            raise UserError(f"bad value in {source}: {key} must be {_type_name(hints[key])}, got {value!r}")
        values[key] = value
    try:
        return cls(**values)
    except TypeError as e:
        raise UserError(f"bad value in {source}: {e}") from None


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the field type ``hint`` (the types configs use; any other type passes)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        return len(items) == len(value) and all(map(_fits, value, items))
    if hint is type(None):
        return value is None
    if hint in (int, float):  # an int is a float, a bool is neither
        return isinstance(value, int if hint is int else int | float) and not isinstance(value, bool)
    return isinstance(value, hint) if hint in (bool, str) else True


def _type_name(hint: Any) -> str:
    """A field type as a user reads it: "a float", "one of 'mse', 'huber'", "an int or None"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin is tuple:
        return {int: "a list of ints", float: "a list of numbers"}.get(args[0] if args else None, "a list")
    names = {int: "an int", float: "a number", bool: "true or false", str: "a string", type(None): "None"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a flat mapping of settings from .toml, .yaml/.yml or .json."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file not found: '{path}'")
    suffix = path.suffix.lower()
    try:
        text = path.read_text()
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise UserError(f"config file '{path}' must end in .toml, .yaml, .yml or .json")
    except UserError:
        raise
    except Exception as e:  # each parser has its own error type; all mean "malformed"
        msg = " ".join(str(e).split())
        raise UserError(f"malformed config file '{path}': {msg}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"malformed config file '{path}': expected a mapping of settings")
    return data


def read_literal(text: str) -> Any:
    """A Python literal (``0.5``, ``(64, 64)``, ``'ou'``), or else the text itself: a bare word is a string."""
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def parse_key_values(items: Iterable[str], what: str, read: Callable[[str], Any] = read_literal) -> dict[str, Any]:
    """``["gamma=0.98", "noise=ou", "hidden-sizes=(64, 64)"]`` -> {"gamma": 0.98, "noise": "ou", ...}.

    The one reader of the command line's ``key=value`` settings (--set, --grid, --env-kwargs; ``what`` names
    the flag in errors), so they all accept the same things: keys are identifiers (``-`` read as ``_``),
    each given once; each value is ``read(text)``, a literal by default. A malformed item is a UserError.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier() or not value.strip():
            raise UserError(f"{what} wants key=value; got '{item}'")
        if key in out:
            raise UserError(f"{what} names '{key}' twice")
        out[key] = read(value)
    return out


def split_list(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes, blank items dropped:
    ``"a=(1, 2),b='x,y'"`` -> ``["a=(1, 2)", "b='x,y'"]`` (a plain ``split(",")`` would cut the tuple)."""
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth <= 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]
