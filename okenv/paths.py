"""Where okenv keeps its files: ``$OKENV_CONFIG`` / ``$OKENV_CACHE_DIR``, else platformdirs'."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("OKENV_CONFIG"):
        return Path(env["OKENV_CONFIG"]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("okenv", appauthor=False)) / "config.toml"


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("OKENV_CACHE_DIR"):
        return Path(env["OKENV_CACHE_DIR"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("okenv", appauthor=False))
