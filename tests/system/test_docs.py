"""The documentation: the site builds (MkDocs, strictly: a broken link, a missing page or a missing include fails), the
README stays an entrance, and every code block of the pages says how a test runs it, and is run so:

    <!-- run: shell -->    bash, against the emulator (its address in place of the documented http://127.0.0.1:8080 or
                           localhost:8080), with a curl that fails on an HTTP error status
    <!-- run: python -->   the same in Python
    <!-- run: pytest -->   a user's test file, run by pytest in a project of its own, where the plugin serves it
    <!-- run: serve -->    an `xweb-emulator serve` command, started on a free port until it answers
    <!-- run: seed -->     a seed file, loaded by `xweb-emulator seed` into a fresh database
    <!-- run: profile -->  a tenant profile, checked by `xweb-emulator profile check` and served by `serve --profile`
    <!-- run: make -n -->  make commands, each printed by `make -n` (they install, serve or measure for minutes)
    <!-- not run: why -->, <!-- example: file -->   (the latter run by tests/system/test_pytest_plugin.py)

A Python example that needs a package the emulator does not depend on must say, in its section, how to install it."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
import requests
import yaml

from serve_support import describe, run_cli, serving

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
# Every fenced block, and the marker on the line before it, if any: `run: <how>`, `not run: <why>`, or `example: <file>`
# (a user's test file that tests/system/test_pytest_plugin.py runs).
CODE_BLOCK = re.compile(r"^(?:<!-- (?P<marker>[^\n]*?) -->\n)?```\w*\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE)
RUN_MODES = ("shell", "python", "pytest", "serve", "seed", "profile", "make -n")
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
    marker: str | None
    code: str
    line: int
    section: str
    """The text from the heading the example is under to the example."""

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def mode(self) -> str | None:
        """How the test runs it (one of RUN_MODES); None for a block no test here runs."""
        return self.marker.removeprefix("run: ") if self.marker and self.marker.startswith("run: ") else None


def code_blocks() -> list[Example]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in CODE_BLOCK.finditer(text):
            section = text[_section_start(text, match.start()):match.start()]
            found.append(Example(page, match.group("marker"), match.group("code"),
                                 text.count("\n", 0, match.start()) + 1, section))
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


BLOCKS = code_blocks()


def examples(*modes: str) -> list[Example]:
    return [block for block in BLOCKS if block.mode in modes]


def test_every_code_block_says_how_it_is_run_or_why_not():
    unmarked = [str(block) for block in BLOCKS
                if not (block.mode in RUN_MODES or re.fullmatch(r"(not run|example): \S.*", block.marker or ""))]
    assert unmarked == [], ("each code block follows a line <!-- run: <how> --> (how: " + ", ".join(RUN_MODES)
                            + "), <!-- not run: <why> --> or <!-- example: <file> -->")


def test_the_docs_mark_examples_to_run():
    assert {block.mode for block in BLOCKS} >= set(RUN_MODES), f"blocks found: {[str(block) for block in BLOCKS]}"


@pytest.mark.parametrize("example", examples("shell", "python"), ids=str)
def test_the_example_runs_as_written(example, xweb_emulator):
    code = DOCUMENTED_ADDRESS.sub(xweb_emulator.base_url, example.code)
    command = ["bash", "-c", SHELL_PRELUDE + code] if example.mode == "shell" else [sys.executable, "-c", code]
    # The shell finds this interpreter's python3 and xweb-emulator first, as in the environment the docs set up.
    environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=EXAMPLE_SECONDS, env=environment)
    assert result.returncode == 0, (f"{example} exited {result.returncode}\n--- stdout ---\n{result.stdout}\n"
                                    f"--- stderr ---\n{result.stderr}")
    assert "Traceback" not in result.stdout + result.stderr, f"{example}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("example", examples("pytest"), ids=str)
def test_the_test_file_passes_as_a_user_copies_it(example, tmp_path):
    (tmp_path / "test_example.py").write_text(example.code, encoding="utf-8")
    # A project of its own: no conftest, no configuration of this suite's; the plugin loads by its entry point.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=EXAMPLE_SECONDS,
                            env={name: value for name, value in os.environ.items()
                                 if not name.startswith(("XWEB_EMULATOR_", "PYTEST_"))})
    assert result.returncode == 0, f"{example}: pytest exited {result.returncode}\n{result.stdout}{result.stderr}"
    assert re.search(r"\b[1-9]\d* passed\b", result.stdout), result.stdout


@pytest.mark.parametrize("example", examples("serve"), ids=str)
def test_the_serve_command_starts_as_written(example, tmp_path):
    [command] = [shlex.split(line) for line in example.code.splitlines() if line.strip()]
    assert command[:2] == ["xweb-emulator", "serve"], f"{example}: a serve example is one xweb-emulator serve command"
    with serving(tmp_path, *command[2:]) as server:  # on a free port, in a folder of its own
        assert requests.get(f"{server.url}/_emulator/health", timeout=30).json()["status"] == "ready"
        rules = requests.get(f"{server.url}/_emulator/faults", timeout=30).json()["rules"]
    given = [json.loads(value) for flag, value in zip(command, command[1:]) if flag == "--fault"]
    assert [{field: rule[field] for field in spec} for rule, spec in zip(rules, given)] == given, rules


@pytest.mark.parametrize("example", examples("seed"), ids=str)
def test_the_seed_file_loads_as_written(example, tmp_path):
    (tmp_path / "seed.yaml").write_text(example.code, encoding="utf-8")
    result = run_cli(tmp_path, "seed", "seed.yaml")  # into a fresh database in that folder
    assert result.returncode == 0, describe(result)
    created = json.loads(result.stdout)
    document = yaml.safe_load(example.code)
    assert {vendor: {name: len(keys) for name, keys in objects.items()} for vendor, objects in created.items()} == {
        vendor: {name: len(records) for name, records in objects.items()} for vendor, objects in document.items()}


@pytest.mark.parametrize("example", examples("profile"), ids=str)
def test_the_profile_is_served_as_written(example, tmp_path):
    (tmp_path / "tenant.yaml").write_text(example.code, encoding="utf-8")
    checked = run_cli(tmp_path, "profile", "check", "tenant.yaml")
    assert checked.returncode == 0, describe(checked)
    declared = {each["name"] for each in yaml.safe_load(example.code).get("objects", ())}  # a profile may declare none
    with serving(tmp_path, "--profile", "tenant.yaml") as server:
        listed = requests.post(f"{server.url}/xWeb/JSON/GetFacadeObjectList", auth=("demo", "demo"), timeout=30)
    assert listed.status_code == 200, listed.text
    assert declared <= {each["obj_name"] for each in listed.json()["ObjectObjects"]["ObjectObject"]}


@pytest.mark.parametrize("example", examples("make -n"), ids=str)
def test_the_make_commands_name_targets_that_exist(example):
    """`make -n`: what each command would run, printed, nothing run (they install, serve, measure for minutes)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed: the documented commands are make's")
    for line in filter(None, (line.split("#")[0].strip() for line in example.code.splitlines())):
        command = shlex.split(line)
        assert command[0] == "make", f"{example}: {line!r} is no make command"
        result = subprocess.run(["make", "-n", *command[1:]], cwd=ROOT, capture_output=True, text=True,
                                timeout=EXAMPLE_SECONDS)
        assert result.returncode == 0, f"{example}: make -n {line[5:]} exited {result.returncode}\n{result.stderr}"


def runtime_dependencies() -> set[str]:
    """The distributions installing the emulator brings (no extra's)."""
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group())
            for requirement in requires("xweb-emulator") or [] if "extra ==" not in requirement}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("example", examples("python", "pytest"), ids=str)
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
