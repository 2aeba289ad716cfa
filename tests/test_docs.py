"""The documentation site builds (MkDocs, strictly: a broken link, a missing page or a missing include fails), and
its examples run as written: every code block marked `<!-- run: shell -->` or `<!-- run: python -->` is run against
the emulator, its address in place of the documented http://127.0.0.1:8080 (or localhost:8080), and must succeed
(curl, in shell blocks, fails on an HTTP error status); a block marked `<!-- run: pytest -->` is a user's test file,
run by pytest in a project of its own, where the plugin serves it. A Python example that needs a package the emulator
does not depend on must say how to install it, in its section, before it."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
RUNNABLE = re.compile(r"^<!-- run: (shell|python|pytest) -->\n```\w*\n(.*?)^```", re.DOTALL | re.MULTILINE)
HEADING_OR_FENCE = re.compile(r"^(#{1,6} |```)", re.MULTILINE)
DOCUMENTED_ADDRESS = re.compile(r"http://(?:127\.0\.0\.1|localhost):8080|(?<![/\w])localhost:8080")
EXAMPLE_SECONDS = 120
BUILD_SECONDS = 300
README_MAX_LINES = 150
# curl as the examples write it, but failing on an HTTP error status (the body still shown): an example answered
# 4xx or 5xx is a broken example, however readable its output.
SHELL_PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body --show-error "$@"; }\n'


def test_the_docs_site_builds_strictly(tmp_path):
    missing = [name for name in ("mkdocs", "material") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not importable: the docs build needs mkdocs and mkdocs-material, "
                    "which the package's test extra installs (pip install -e '.[test]')")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_SECONDS,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})  # Material's notice about its successor, not ours to act on
    assert result.returncode == 0, f"mkdocs build --strict exited {result.returncode}:\n{result.stderr}"
    assert (site / "index.html").is_file()
    # The architecture page is CONTRIBUTING.md, included whole.
    architecture = (site / "architecture" / "index.html").read_text(encoding="utf-8")
    assert "src/xweb_emulator/" in architecture and "--8&lt;--" not in architecture


def test_the_readme_is_an_entrance_whose_links_lead_somewhere():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < README_MAX_LINES, "the README is the entrance: the manual is the docs site"
    [setup] = re.findall(r"^## Two commands on a fresh machine\n.*?^```sh\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert [line.split("#")[0].strip() for line in setup.splitlines()] == ["make serve", "make test"]
    targets = [target for target in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", target)]
    assert targets, "the README links to the docs"
    assert [target for target in targets if not (ROOT / target.split("#")[0]).exists()] == []


@dataclass(frozen=True)
class Example:
    page: Path
    language: str
    code: str
    line: int
    section: str
    """The text from the heading the example is under to the example."""

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in RUNNABLE.finditer(text):
            section = text[_section_start(text, match.start()):match.start()]
            found.append(Example(page, match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1,
                                 section))
    return found


def _section_start(text: str, position: int) -> int:
    """Where the heading above `position` starts (a `#` line in a code block is no heading)."""
    start, fenced = 0, False
    for mark in HEADING_OR_FENCE.finditer(text, 0, position):
        if mark.group(1) == "```":
            fenced = not fenced
        elif not fenced:
            start = mark.start()
    return start


EXAMPLES = examples()


def test_the_docs_mark_examples_to_run():
    languages = {example.language for example in EXAMPLES}
    assert languages == {"shell", "python", "pytest"}, f"runnable examples found: {[str(e) for e in EXAMPLES]}"


@pytest.mark.parametrize("example", [example for example in EXAMPLES if example.language != "pytest"], ids=str)
def test_the_example_runs_as_written(example, xweb_emulator):
    code = DOCUMENTED_ADDRESS.sub(xweb_emulator.base_url, example.code)
    command = ["bash", "-c", SHELL_PRELUDE + code] if example.language == "shell" else [sys.executable, "-c", code]
    # The shell finds this interpreter's python3 and xweb-emulator first, as in the environment the docs set up.
    environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=EXAMPLE_SECONDS, env=environment)
    assert result.returncode == 0, (f"{example} exited {result.returncode}\n--- stdout ---\n{result.stdout}\n"
                                    f"--- stderr ---\n{result.stderr}")
    assert "Traceback" not in result.stdout + result.stderr, f"{example}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("example", [example for example in EXAMPLES if example.language == "pytest"], ids=str)
def test_the_test_file_passes_as_a_user_copies_it(example, tmp_path):
    (tmp_path / "test_example.py").write_text(example.code, encoding="utf-8")
    # A project of its own: no conftest, no configuration of this suite's; the plugin loads by its entry point.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=EXAMPLE_SECONDS,
                            env={name: value for name, value in os.environ.items()
                                 if not name.startswith(("XWEB_EMULATOR_", "PYTEST_"))})
    assert result.returncode == 0, f"{example}: pytest exited {result.returncode}\n{result.stdout}{result.stderr}"
    assert re.search(r"\b[1-9]\d* passed\b", result.stdout), result.stdout


def runtime_dependencies() -> set[str]:
    """The distributions installing the emulator brings (no extra's)."""
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group())
            for requirement in requires("xweb-emulator") or [] if "extra ==" not in requirement}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("example", [example for example in EXAMPLES if example.language != "shell"], ids=str)
def test_a_python_example_says_how_to_install_what_it_imports(example):
    imported = {(node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
                for node in ast.walk(ast.parse(example.code)) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    distributions = packages_distributions()
    needed = {_canonical(distribution) for module in imported - set(sys.stdlib_module_names)
              for distribution in distributions.get(module, [module])} - runtime_dependencies() - {"xweb-emulator"}
    told = {name for name in needed
            if re.search(rf"pip install [^\n`]*\b{re.escape(name)}\b", example.section, re.IGNORECASE)}
    assert told == needed, f"{example} imports {sorted(needed - told)}: its section never says to pip install it"
