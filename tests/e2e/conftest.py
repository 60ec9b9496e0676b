"""End-to-end harness: the installed ``okenv`` as a subprocess, against the fake Okta org
and an STS endpoint on loopback, with config and cache in the test's temp HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeOkta
from tests.fakes.sts import FakeSts

OKENV = str(Path(sys.executable).with_name("okenv"))

ADMIN = "arn:aws:iam::123456789012:role/Admin"
READONLY = "arn:aws:iam::210987654321:role/ReadOnly"


def config_text(app_url: str, extra: str = "") -> str:
    return f"""
[defaults]
app_url = "{app_url}"
username = "{DEFAULT_USERNAME}"

[profiles.admin]
role = "{ADMIN}"

[profiles.readonly]
role = "210987654321/ReadOnly"
region = "eu-west-1"

[profiles.pick]
{extra}
"""


@dataclass
class Sandbox:
    okta: FakeOkta
    sts: FakeSts
    home: Path
    config: Path
    env: dict[str, str] = field(default_factory=dict)

    def write_config(self, text: str) -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text)

    def run(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        environment = dict(self.env)
        for name, value in (env or {}).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return subprocess.run(
            [OKENV, *args],
            env=environment,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # no controlling terminal: a prompt must fail, not hang
        )

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["OKENV_CACHE_DIR"])

    def imports(self, *args: str) -> set[str]:
        """The modules ``python -X importtime -m okenv ARGS`` imports (dotted names)."""
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "okenv", *args],
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return {line.split("|")[-1].strip() for line in result.stderr.splitlines()}


@pytest.fixture
def fake_sts() -> Iterator[FakeSts]:
    with FakeSts() as sts:
        yield sts


@pytest.fixture
def sandbox(hygiene: Path, fake_okta: FakeOkta, fake_sts: FakeSts) -> Sandbox:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL_STS": fake_sts.url,
            "OKENV_PASSWORD": DEFAULT_PASSWORD,
            "OKENV_TOTP_SECRET": DEFAULT_TOTP_SECRET,
        }
    )
    box = Sandbox(
        okta=fake_okta, sts=fake_sts, home=hygiene, config=Path(env["OKENV_CONFIG"]), env=env
    )
    box.write_config(config_text(fake_okta.app_url))
    return box
