"""The README's operation-coverage tables, written from GET /_emulator/coverage (test_coverage.py keeps them equal).

Run it to write them again after the operation tables changed:

    .venv/python3/bin/python tests/readme_coverage.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- coverage: written by tests/readme_coverage.py from GET /_emulator/coverage; do not edit by hand -->"
END = "<!-- coverage: end -->"
REGENERATE = ".venv/python3/bin/python tests/readme_coverage.py"
FOLDED_PAST = 20
"""Longer tables are folded (<details>), so that the README stays readable."""


def render(coverage: dict[str, dict]) -> str:
    """A table per vendor: every operation of its service, and whether it is emulated."""
    parts = []
    for vendor, entry in coverage.items():
        counts = f"{entry['emulated']} of {entry['offered']} operations emulated"
        rows = [f"| `{operation['name']}` | {'yes' if operation['emulated'] else 'no'} |"
                for operation in entry["operations"]]
        table = "\n".join(["| operation | emulated |", "|---|---|", *rows])
        if len(rows) > FOLDED_PAST:  # markdown is not read inside HTML: the summary is written in HTML
            parts.append(f"<details><summary><b>{entry['service']}</b> (<code>{vendor}</code>): {counts}</summary>"
                         f"\n\n{table}\n\n</details>")
        else:
            parts.append(f"**{entry['service']}** (`{vendor}`): {counts}\n\n{table}")
    return "\n\n".join(parts)


def readme_block(text: str) -> str | None:
    """What the README holds between the markers; None where it has no such block."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN):end].strip("\n")


def with_block(text: str, block: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{block}\n\n{text[end:]}"  # the blank line ends the last table


def main() -> None:
    from xweb_emulator.settings import Settings
    from xweb_emulator.testing import run_emulator

    with tempfile.TemporaryDirectory() as directory, run_emulator(
            Settings(database_url=f"sqlite:///{directory}/coverage.db", demo_data=False)) as emulator:
        block = render(emulator.coverage())
    README.write_text(with_block(README.read_text(encoding="utf-8"), block), encoding="utf-8")
    print(f"{README}: the operation-coverage tables written")


if __name__ == "__main__":
    main()
