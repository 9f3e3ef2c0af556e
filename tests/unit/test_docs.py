"""The algorithm pages (docs/algorithms/, docs/algorithms.md) quote the updates next to their equations:
every quoted line must exist in the code."""

import re

import pytest
from doc_examples import ROOT, fences, pages

SRC = ROOT / "src/actorcritic"


def _source(*files):
    return "\n".join((SRC / f).read_text() for f in files)


def _code_column_quotes(page):
    """The code quoted in the last column of a page's tables: the spans with a space or a call in them
    (names alone, like `DDPGLearner.step`, and flags are prose)."""
    rows = [line for line in (ROOT / page).read_text().splitlines() if line.startswith("| ") and "`" in line]
    cells = [re.split(r"(?<!\\)\|", row.strip().strip("|"))[-1] for row in rows]
    return [q for cell in cells for q in re.findall(r"`([^`]+)`", cell) if " " in q or "(" in q]


@pytest.mark.parametrize(
    ("page", "files", "at_least"),
    [
        ("docs/algorithms/ddpg.md", ["algos/ddpg.py", "algos/off_policy.py", "core/targets.py"], 10),
        ("docs/algorithms/td3.md", ["algos/ddpg.py", "runtime/trainers.py"], 7),
        ("docs/algorithms/sac.md", ["algos/sac.py", "algos/off_policy.py", "core/networks.py"], 15),
        (
            "docs/algorithms/on-policy.md",
            ["core/returns.py", "core/buffers.py", "algos/a2c.py", "algos/ppo.py", "algos/a3c.py", "backends/a3c.py"],
            15,
        ),
    ],
)
def test_algorithm_tables_quote_the_files_they_name(page, files, at_least):
    quotes = _code_column_quotes(page)
    assert len(quotes) >= at_least, quotes
    source = _source(*files)
    missing = [q for q in quotes if q not in source]
    assert not missing, missing


def test_quoted_code_blocks_quote_real_code():
    """A ```python quote block says its lines are quoted as they are in the code: every line of it (other
    than comments and "...") is a line of src/actorcritic."""
    blocks = [f for page in pages() for f in fences(page) if "quote" in f.flags]
    assert sum(f.page.name == "algorithms.md" for f in blocks) >= 20, blocks
    assert any(f.page.name == "ddpg.md" for f in blocks), blocks
    source = {line.strip() for path in SRC.rglob("*.py") for line in path.read_text().splitlines()}
    missing = [
        f"{f.where}: {line}"
        for f in blocks
        for line in map(str.strip, f.code.splitlines())
        if line and not line.startswith("#") and line != "..." and line not in source
    ]
    assert not missing, missing
