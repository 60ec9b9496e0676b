"""Test hygiene for every test: nothing a test runs may reach off this machine.

- no instance-metadata probe (AWS_EC2_METADATA_DISABLED), no real AWS config or credentials
  (temp files), no AWS_PROFILE (an okenv credential_process profile would call okenv again);
- every proxy variable points at a dead loopback port, NO_PROXY lets loopback through;
- a temp HOME, OKENV_CONFIG and OKENV_CACHE_DIR, and none of the user's OKENV_* secrets;
- no ``--debug`` lines left switched on by an earlier in-process command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.fixtures import fake_okta  # noqa: F401  (fixture)

DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def hygiene(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    aws = home / ".aws"
    aws.mkdir()
    (aws / "config").write_text("")
    (aws / "credentials").write_text("")
    for name in list(os.environ):
        if name.startswith(("OKENV_", "AWS_")) or name.lower() in (
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        ):
            monkeypatch.delenv(name, raising=False)
    settings = {
        "HOME": str(home),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "OKENV_CONFIG": str(home / ".config" / "okenv" / "config.toml"),
        "OKENV_CACHE_DIR": str(home / ".cache" / "okenv"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LC_ALL": "C.UTF-8",
        # The AWS sign-in page (account aliases) and federation endpoint: never AWS itself.
        "OKENV_AWS_SIGNIN_URL": DEAD_PROXY,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    sts = sys.modules.get("okenv.sts")
    if sts is not None:  # its botocore session read the previous test's AWS config
        sts._session.cache_clear()
    from okenv import report

    monkeypatch.setattr(report.REPORTER, "debug", False)  # a command's --debug ends with it
    yield home
