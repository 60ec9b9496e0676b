"""The push settings users may set (README "Variables"): OKENV_POLL_INTERVAL and
OKENV_PUSH_TIMEOUT, in seconds. A value from the environment is hostile until checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from okenv.okta.mfa import POLL_INTERVAL, PUSH_TIMEOUT
from okenv.okta.signin import OktaOptions


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (None, None),
        ("", None),
        ("0.5", 0.5),
        ("7", 7.0),
        ("-3", 0.01),
        ("0", 0.01),
        ("1e9", 3600.0),
        ("inf", 3600.0),
        ("nan", None),
        ("soon", None),
    ],
)
def test_push_settings_are_checked(tmp_path: Path, text: str | None, seconds: float | None) -> None:
    env = {"OKENV_CACHE_DIR": str(tmp_path)}
    if text is not None:
        env |= {"OKENV_POLL_INTERVAL": text, "OKENV_PUSH_TIMEOUT": text}
    options = OktaOptions.from_environment(env)
    assert options.waits.poll_interval == (POLL_INTERVAL if seconds is None else seconds)
    assert options.waits.push_timeout == (PUSH_TIMEOUT if seconds is None else seconds)
