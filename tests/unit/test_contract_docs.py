"""docs/xweb-contract.md's operation tables are the contract's (tests/contract_docs.py writes them)."""

from __future__ import annotations

import difflib

import pytest

import contract_docs


def test_the_pages_operation_tables_are_the_contracts():
    written = contract_docs.page_block(contract_docs.PAGE.read_text(encoding="utf-8"))
    assert written is not None, f"{contract_docs.PAGE} has no block between {contract_docs.BEGIN!r} and its end"
    expected = contract_docs.render()
    if written != expected:
        diff = "\n".join(difflib.unified_diff(written.splitlines(), expected.splitlines(), "docs", "contract",
                                              lineterm="", n=1))
        pytest.fail(f"docs/xweb-contract.md's operation tables differ from the contract; write them again with: "
                    f"{contract_docs.REGENERATE}\n{diff}", pytrace=False)


def test_every_operation_has_its_row():
    rows = [line for line in contract_docs.render().splitlines() if line.startswith("| `")]
    assert len(rows) == 31 + 262
    assert sum("| **yes** |" in row for row in rows) == 27 + 5 + 25 + 9  # web users: 23, two in both tables; the tenant's methods and queries: 6, three in both
