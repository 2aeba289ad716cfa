"""Each vendor page's operation-coverage table (docs/<vendor>.md), written from GET /_emulator/coverage
(test_coverage.py keeps them equal).

Run it to write them again after the operation tables changed:

    .venv/python3/bin/python tests/docs_coverage.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
BEGIN = "<!-- coverage: written by tests/docs_coverage.py from GET /_emulator/coverage; do not edit by hand -->"
END = "<!-- coverage: end -->"
REGENERATE = ".venv/python3/bin/python tests/docs_coverage.py"


def page(vendor: str) -> Path:
    """The vendor's page."""
    return DOCS / f"{vendor}.md"


def render(entry: dict) -> str:
    """One vendor's table: every operation of its service, and whether it is emulated."""
    rows = [f"| `{operation['name']}` | {'yes' if operation['emulated'] else 'no'} |"
            for operation in entry["operations"]]
    return "\n".join([f"**{entry['service']}**: {entry['emulated']} of {entry['offered']} operations emulated", "",
                      "| operation | emulated |", "|---|---|", *rows])


def written_block(text: str) -> str | None:
    """What a page holds between the markers; None where it has no such block."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN):end].strip("\n")


def with_block(text: str, block: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{block}\n\n{text[end:]}"  # the blank line ends the table


def main() -> None:
    from xweb_emulator.settings import Settings
    from xweb_emulator.testing import run_emulator

    with tempfile.TemporaryDirectory() as directory, run_emulator(
            Settings(database_url=f"sqlite:///{directory}/coverage.db", demo_data=False)) as emulator:
        coverage = emulator.coverage()
    for vendor, entry in coverage.items():
        path = page(vendor)
        path.write_text(with_block(path.read_text(encoding="utf-8"), render(entry)), encoding="utf-8")
        print(f"{path}: the operation-coverage table written")


if __name__ == "__main__":
    main()
