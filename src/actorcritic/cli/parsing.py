"""Parsing a subcommand's flags with tyro, its errors condensed to one line for ``error: ...``."""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

import tyro

from actorcritic.errors import UserError


def parse(cls: Any, args: list[str], prog: str, default: Any = None) -> Any:
    """tyro.cli, with its parse errors condensed to one line for ``error: ...``."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(cls, args=args, prog=prog, default=default, config=(tyro.conf.OmitArgPrefixes,))
    except SystemExit as e:
        if e.code in (0, None):  # --help
            sys.stderr.write(captured.getvalue())
            raise
        raise UserError(condense(captured.getvalue()) + f" (see `{prog} --help`)") from None


def condense(text: str) -> str:
    """The message lines of tyro's error panel, joined into one line."""
    lines = [ln.strip(" │╭╮╰╯─-") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("For full helptext")]
    body = lines[1:] if len(lines) > 1 else lines  # drop the panel title
    message = " ".join(body[:3]) if body else "invalid arguments"
    return " ".join(message.split())
