"""Configs as plain data: to and from dicts, and from TOML / YAML / JSON files."""

from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
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
        values[key] = value
    try:
        return cls(**values)
    except TypeError as e:
        raise UserError(f"bad {source}: {e}") from None


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
