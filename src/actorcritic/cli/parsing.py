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
    """The message of tyro's error panel on one line: its sections but the help texts (the panel's title,
    an argument's help, the pointer to --help, each option's description, the list of failed conversions).
    The panel is drawn in box characters on a terminal and in plain ones elsewhere; both read the same."""
    sections: list[list[str]] = [[]]
    boxed = any(line.lstrip().startswith("╭") for line in text.splitlines())
    for raw in text.splitlines():
        if raw.strip().startswith(("╭", "╰")):
            continue  # a box's top (with the title) and bottom
        inner = raw.rstrip().removesuffix("│").removeprefix(" ").removeprefix("│").rstrip()
        if inner.strip() and set(inner.strip()) <= {"─", "-"}:
            sections.append([])  # a rule between sections
        elif inner.strip():
            sections[-1].append(inner)
    if not boxed:
        sections = sections[1:]  # plain: the title is the first section
    kept = []
    for lines in sections:
        if not lines or lines[0].strip().startswith(("For full helptext", "Argument helptext")):
            continue
        margin = min(len(ln) - len(ln.lstrip()) for ln in lines)
        shallow = [ln.strip() for ln in lines if len(ln) - len(ln.lstrip()) < margin + 8]  # not a description
        kept.append(" ".join(" ".join(shallow).split("Got errors:")[0].split()))
    return " ".join(kept) or "invalid arguments"
