"""Stands the virtual security keys of tests/fakes/ctap.py in for USB ones, in any Python
started with this folder on PYTHONPATH and ``OKENV_TEST_CTAP`` naming a key file.

Nothing is imported up front: an import hook waits for ``fido2.hid`` (imported by okenv
only when a security key is used) and then replaces ``CtapHidDevice.list_devices``, the
discovery seam. So the import-time tests still see a process that never loads fido2.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_KEYS = os.environ.get("OKENV_TEST_CTAP")
_ROOT = str(Path(__file__).resolve().parents[3])


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        if _ROOT not in sys.path:
            sys.path.append(_ROOT)
        from tests.fakes.ctap import install

        install(_KEYS or "")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "fido2.hid":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if _KEYS:
    sys.meta_path.insert(0, _Finder())
