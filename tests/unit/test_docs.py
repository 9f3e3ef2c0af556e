"""The README and docs/algorithms.md quote the updates next to their equations: every quoted line must exist in the code."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_ddpg_table_quotes_real_code():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## DDPG: the math next to the code", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    quotes = [
        q
        for row in rows
        for q in re.findall(r"`([^`]+)`", row)
        if q.startswith(("next_q", "y =", "q =", "critic_loss", "actor_loss", "gradient_step", "self."))
    ]
    assert len(quotes) >= 7, quotes
    files = ["algos/ddpg.py", "algos/off_policy.py"]
    source = "\n".join((ROOT / "src/actorcritic" / f).read_text() for f in files)
    for quote in quotes:
        assert quote in source, quote


def test_readme_on_policy_tables_quote_real_code():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## On-policy: the math next to the code", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    quotes = [q for row in rows for q in re.findall(r"`([^`]+)`", row) if " " in q or "(" in q]
    assert len(quotes) >= 15, quotes
    files = [
        "core/returns.py",
        "core/buffers.py",
        "algos/a2c.py",
        "algos/ppo.py",
        "algos/a3c.py",
        "backends/a3c.py",
    ]
    source = "\n".join((ROOT / "src/actorcritic" / f).read_text() for f in files)
    for quote in quotes:
        assert quote in source, quote


def test_algorithms_doc_code_blocks_quote_real_code():
    """docs/algorithms.md says its code lines are quoted as they are in the code: every line of its
    python blocks (other than comments and "...") is a line of src/actorcritic."""
    doc = (ROOT / "docs/algorithms.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) >= 20, len(blocks)
    source = {
        line.strip() for path in (ROOT / "src/actorcritic").rglob("*.py") for line in path.read_text().splitlines()
    }
    quoted = [line.strip() for block in blocks for line in block.splitlines()]
    missing = [line for line in quoted if line and not line.startswith("#") and line != "..." and line not in source]
    assert not missing, missing
