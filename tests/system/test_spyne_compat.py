"""The spyne 2.14 shim (xweb_emulator._spyne_compat), checked in fresh interpreters of the suite's own Python so that
no module cache of this test process hides what `import xweb_emulator` does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run_fresh(code: str) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON document as its last line, answered here."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_spyne_imports_after_xweb_emulator_with_the_real_modules():
    answer = run_fresh("""
        import json, sys
        assert "spyne" not in sys.modules
        import xweb_emulator
        import spyne
        from spyne.util.six.moves.collections_abc import MutableSet
        from spyne.util.six.moves.urllib.parse import quote
        import collections.abc, urllib.parse
        print(json.dumps({
            "mutable_set": MutableSet is collections.abc.MutableSet,
            "quote": quote is urllib.parse.quote,
            "spyne_file": spyne.__file__,
            "version": sys.version_info[:2],
        }))
    """)
    assert answer["mutable_set"] is True, answer
    assert answer["quote"] is True, answer
    assert "site-packages" in answer["spyne_file"], answer


def test_the_emulators_soap_stack_imports_in_a_fresh_interpreter():
    answer = run_fresh("""
        import json
        import xweb_emulator.app
        from spyne import Application
        from spyne.protocol.soap import Soap11
        from spyne.server.wsgi import WsgiApplication
        print(json.dumps({"ok": True}))
    """)
    assert answer == {"ok": True}


def test_the_finder_answers_only_for_spyne_six_moves():
    answer = run_fresh("""
        import json, sys
        import xweb_emulator
        from xweb_emulator._spyne_compat import _VendoredSixMovesFinder
        [finder] = [f for f in sys.meta_path if isinstance(f, _VendoredSixMovesFinder)]

        def spec(name):
            found = finder.find_spec(name, None)
            return None if found is None else found.name

        # Before spyne's vendored six is imported, the finder has nothing to delegate to.
        before = spec("spyne.util.six.moves.urllib.parse")
        import spyne.util.six
        print(json.dumps({
            "before_six": before,
            "moves": spec("spyne.util.six.moves"),
            "moves_parse": spec("spyne.util.six.moves.urllib.parse"),
            "moves_unknown": spec("spyne.util.six.moves.no_such_module"),
            "lookalike": spec("spyne.util.six.movesx"),
            "spyne": spec("spyne"),
            "six": spec("spyne.util.six"),
            "json": spec("json"),
            "urllib": spec("urllib.parse"),
            "six_moves": spec("six.moves"),
            "first": sys.meta_path[0] is finder,
        }))
    """)
    assert answer["before_six"] is None, answer
    assert answer["moves"] == "spyne.util.six.moves", answer
    assert answer["moves_parse"] == "spyne.util.six.moves.urllib.parse", answer
    for name in ("moves_unknown", "lookalike", "spyne", "six", "json", "urllib", "six_moves"):
        assert answer[name] is None, (name, answer)
    assert answer["first"] is True, answer


def test_install_is_idempotent():
    answer = run_fresh("""
        import json, sys
        import xweb_emulator
        from xweb_emulator import _spyne_compat

        def count():
            return sum(isinstance(f, _spyne_compat._VendoredSixMovesFinder) for f in sys.meta_path)

        after_import = count()
        _spyne_compat.install()
        _spyne_compat.install()
        length = len(sys.meta_path)
        _spyne_compat.install()
        length_stable = len(sys.meta_path) == length
        import spyne
        from spyne.util.six.moves.urllib.parse import quote
        print(json.dumps({"after_import": after_import, "after_installs": count(), "length_stable": length_stable}))
    """)
    assert answer == {"after_import": 1, "after_installs": 1, "length_stable": True}
