"""docs/xweb-contract.md's tables of operations, written from the contract (xweb/contract.json) and the operation
table (test_contract_docs.py keeps them equal).

Run it to write them again after either changed:

    .venv/python3/bin/python tests/contract_docs.py
"""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "xweb-contract.md"
BEGIN = "<!-- operations: written by tests/contract_docs.py from xweb/contract.json; do not edit by hand -->"
END = "<!-- operations: end -->"
REGENERATE = ".venv/python3/bin/python tests/contract_docs.py"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """Two tables: the operations whose declaration the project reconstructed (2015, partly guessed), then every
    operation with its signature, result, token rule, HTTP bindings and whether it is emulated."""
    from xweb_emulator.xweb.contract import operation_contracts
    from xweb_emulator.xweb.operations import OPERATIONS

    contracts = operation_contracts()
    token = {(True, True): "in, out", (False, True): "out", (False, False): "none"}

    def row(contract) -> str:
        signature = f"`{_cell(contract.signature)}`" if contract.parameters else ""
        named = f" (messages: `{contract.message}`)" if contract.message != contract.name else ""
        return (f"| `{contract.name}`{named} | {signature} | `{contract.returns}` | "
                f"{token[contract.token_in, contract.token_out]} | {'yes' if contract.http_bindings else 'no'} | "
                f"{'**yes**' if contract.name in OPERATIONS else 'no'} |")

    header = ["| operation | parameters | result | token header | HTTP GET/POST | emulated |",
              "|---|---|---|---|---|---|"]
    later = [row(contract) for contract in contracts.values() if contract.source == "2015"]
    every = [row(contract) for contract in contracts.values()]
    return "\n".join([
        f"### The {len(later)} operations the 2010 WSDL lacks", "",
        "Declared from the 2015 operation list and its generated proxies (see [Deviations](#deviations)).", "",
        *header, *later, "",
        f"### Every operation ({len(every)}; {sum(name in OPERATIONS for name in contracts)} emulated)", "",
        *header, *every,
    ])


def page_block(text: str) -> str | None:
    """What the page holds between the markers; None where it has no such block."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN):end].strip("\n")


def main() -> None:
    text = PAGE.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    PAGE.write_text(f"{text[:start]}\n{render()}\n\n{text[end:]}", encoding="utf-8")
    print(f"{PAGE}: the operation tables written")


if __name__ == "__main__":
    main()
