"""Make spyne 2.14 importable on Python 3.12+.

spyne vendors an old copy of ``six`` whose lazy ``six.moves`` importer only implements the ``find_module`` protocol,
which Python 3.12 removed from the import system; ``import spyne`` then fails with
``ModuleNotFoundError: No module named 'spyne.util.six.moves'`` (arskom/spyne#700, #708, #711, unreleased upstream).

The finder below answers for ``spyne.util.six.moves.*`` with the modern ``find_spec`` protocol and lets spyne's own
vendored importer build the module, so spyne's code runs unchanged. It is installed on every Python version so that
one code path is exercised everywhere; on 3.11 it simply takes precedence over the deprecated ``find_module`` path.

spyne also imports ``cgi``, which warns of its deprecation on 3.11 and 3.12 (3.13 gets it from ``legacy-cgi``).
``install`` imports it first with that warning silenced: a project that tests with this package's pytest plugin
would otherwise see it in every run, or fail on it under ``-W error``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

_PREFIX = "spyne.util.six.moves"


class _VendoredSixLoader(importlib.abc.Loader):
    def __init__(self, six_importer) -> None:
        self._six_importer = six_importer

    def create_module(self, spec) -> ModuleType:
        return self._six_importer.load_module(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        """The vendored importer returns fully initialised modules; nothing is left to execute."""


class _VendoredSixMovesFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        vendored_six = sys.modules.get("spyne.util.six")
        if vendored_six is None:
            return None
        six_importer = vendored_six._importer
        if fullname not in six_importer.known_modules:
            return None
        return importlib.util.spec_from_loader(fullname, _VendoredSixLoader(six_importer))


def install() -> None:
    if not any(isinstance(finder, _VendoredSixMovesFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _VendoredSixMovesFinder())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import cgi  # noqa: F401

