"""The tools under test: where they are installed, and how each logs in non-interactively
(username, password and a TOTP code) to the same org and role."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.sandbox import ROLE_ARN
from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, totp_now

ROOT = Path(__file__).resolve().parents[1]
PROJECT_BIN = ROOT / ".venv" / "bin"

# Pinned so that a rerun measures the same code; bump on purpose.
PEERS: dict[str, str] = {
    "gimme-aws-creds": "gimme-aws-creds==2.8.2",
    "tokendito": "tokendito==2.5.0",
}
PROFILE = "bench"


@dataclass
class Case:
    """One measured command. ``prepare`` runs before every run (untimed) and may return
    extra environment; ``check`` says whether a run did what it should."""

    key: str
    tool: str
    label: str
    argv: list[str]
    env: dict[str, str]
    group: str  # "login" | "cached" | "floor"
    prepare: Callable[[], dict[str, str]] = field(default=lambda: {})
    check: Callable[[str, str, int], str | None] = field(default=lambda o, e, rc: None)
    counts_requests: bool = False


def _rc_only(out: str, err: str, rc: int) -> str | None:
    return None if rc == 0 else f"exit code {rc}: {_tail(err)}"


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def install_peer(name: str, work: Path, log: Path) -> tuple[Path | None, str | None]:
    """A venv per peer under ``work``; (bin dir, None) or (None, why it failed)."""
    spec = PEERS[name]
    venv = work / "peers" / name
    stamp = venv / f".installed-{spec.replace('==', '-')}"
    if stamp.exists():
        return venv / "bin", None
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    with log.open("ab") as out:
        steps = [
            [base, "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                spec,
            ],
        ]
        for step in steps:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            result = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, env=env)
            if result.returncode != 0:
                return None, f"`{' '.join(step[-2:])}` failed (exit {result.returncode}); see {log}"
    stamp.touch()
    return venv / "bin", None


def okenv_settings(config: Path, cache: Path) -> dict[str, str]:
    """What every okenv run of the bench is given: its config, a cache of its own, the
    secrets of a non-interactive login and bash as the shell."""
    return {
        "OKENV_CONFIG": str(config),
        "OKENV_CACHE_DIR": str(cache),
        "OKENV_PASSWORD": DEFAULT_PASSWORD,
        "OKENV_TOTP_SECRET": DEFAULT_TOTP_SECRET,
        "SHELL": "/bin/bash",
    }


def okenv_cases(
    env: dict[str, str], home: Path, okta_app_url: str, floor_json: Path, python: Path
) -> list[Case]:
    config = home / "okenv.toml"
    cache = home / "okenv-cache"
    config.write_text(
        f"""[defaults]
app_url  = "{okta_app_url}"
username = "{DEFAULT_USERNAME}"
factor   = "totp"
region   = "us-east-1"

[profiles.{PROFILE}]
role = "{ROLE_ARN}"

[profiles.{PROFILE}-other]
role = "{ROLE_ARN}"
region = "eu-west-1"
"""
    )
    env = dict(env)
    env.update(okenv_settings(config, cache))
    okenv = str(PROJECT_BIN / "okenv")

    def empty_cache() -> dict[str, str]:
        shutil.rmtree(cache, ignore_errors=True)
        return {}

    def creds_json(out: str, err: str, rc: int) -> str | None:
        if rc != 0:
            return f"exit code {rc}: {_tail(err)}"
        try:
            doc = json.loads(out)
            assert doc["Version"] == 1 and doc["AccessKeyId"] and doc["SessionToken"]
        except (ValueError, KeyError, AssertionError):
            return f"no credential_process JSON on stdout: {out[:120]!r}"
        return None

    def exports(out: str, err: str, rc: int) -> str | None:
        if rc != 0:
            return f"exit code {rc}: {_tail(err)}"
        return None if "AWS_SESSION_TOKEN=" in out else f"no exports on stdout: {out[:120]!r}"

    def profiles(out: str, err: str, rc: int) -> str | None:
        if rc != 0:
            return f"exit code {rc}: {_tail(err)}"
        names = out.split()
        return None if names == [PROFILE, f"{PROFILE}-other"] else f"unexpected: {out!r}"

    return [
        Case(
            "okenv.login",
            "okenv",
            "full login (empty cache)",
            [okenv, "credential-process", PROFILE],
            env,
            "login",
            prepare=empty_cache,
            check=creds_json,
            counts_requests=True,
        ),
        Case(
            "okenv.env",
            "okenv",
            "cached `env P --shell bash`",
            [okenv, "env", PROFILE, "--shell", "bash"],
            env,
            "cached",
            check=exports,
        ),
        Case(
            "okenv.use",
            "okenv",
            "cached `env --shell bash P` (what `okenv use` runs)",
            [okenv, "env", "--shell", "bash", PROFILE],
            env,
            "cached",
            check=exports,
        ),
        Case(
            "okenv.exec",
            "okenv",
            "cached `exec P -- true`",
            [okenv, "exec", PROFILE, "--", "true"],
            env,
            "cached",
            check=_rc_only,
        ),
        Case(
            "okenv.credential_process",
            "okenv",
            "cached `credential-process P`",
            [okenv, "credential-process", PROFILE],
            env,
            "cached",
            check=creds_json,
        ),
        Case(
            "okenv.complete",
            "okenv",
            'completion `__complete-profiles ""`',
            [okenv, "__complete-profiles", ""],
            env,
            "cached",
            check=profiles,
        ),
        Case(
            "floor.script",
            "floor",
            "stdlib script: JSON → 3 export lines",
            [str(python), str(ROOT / "bench" / "floor.py"), str(floor_json)],
            env,
            "floor",
            check=exports_floor,
        ),
        Case(
            "floor.pass",
            "floor",
            "`python -c pass`",
            [str(python), "-c", "pass"],
            env,
            "floor",
            check=_rc_only,
        ),
    ]


def exports_floor(out: str, err: str, rc: int) -> str | None:
    if rc != 0:
        return f"exit code {rc}: {_tail(err)}"
    return None if out.count("export ") == 3 else f"unexpected: {out!r}"


def gimme_case(bin_dir: Path, env: dict[str, str], home: Path, org_url: str, app_url: str) -> Case:
    ini = home / "okta_aws_login_config.ini"
    ini.write_text(
        f"""[DEFAULT]
okta_org_url = {org_url}
okta_auth_server =
client_id =
gimme_creds_server = appurl
app_url = {app_url}
aws_appname =
aws_rolename = {ROLE_ARN}
okta_username = {DEFAULT_USERNAME}
preferred_mfa_type = token:software:totp
force_classic = True
write_aws_creds = False
cred_profile = role
resolve_aws_alias = False
include_path = False
remember_device = False
aws_default_duration = 3600
output_format = json
enable_keychain = False
device_token = okenvbenchdevicetoken0000000000
"""
    )
    # device_token: gimme-aws-creds reads the DT cookie after login and fails without one;
    # real Okta sets it, the fake does not, so the INI provides it (as a returning user has).
    env = dict(env)
    env.update(OKTA_CONFIG=str(ini), OKTA_PASSWORD=DEFAULT_PASSWORD)

    def code() -> dict[str, str]:
        return {"OKTA_MFA_CODE": totp_now()}  # computed fresh for every run, untimed

    def check(out: str, err: str, rc: int) -> str | None:
        if rc != 0:
            return f"exit code {rc}: {_tail(err)}"
        try:
            doc = json.loads(out)
            assert doc["credentials"]["aws_session_token"]
        except (ValueError, KeyError, AssertionError, TypeError):
            return f"no credentials JSON on stdout: {out[:120]!r}"
        return None

    return Case(
        "gimme.login",
        "gimme-aws-creds",
        "full login (-o json)",
        [str(bin_dir / "gimme-aws-creds"), "-o", "json"],
        env,
        "login",
        prepare=code,
        check=check,
        counts_requests=True,
    )


def tokendito_case(bin_dir: Path, env: dict[str, str], home: Path, app_url: str) -> Case:
    env = dict(env)
    env.update(
        TOKENDITO_OKTA_USERNAME=DEFAULT_USERNAME,
        TOKENDITO_OKTA_PASSWORD=DEFAULT_PASSWORD,
        TOKENDITO_OKTA_TILE=app_url,
        TOKENDITO_OKTA_MFA="GOOGLE_token:software:totp",
        TOKENDITO_AWS_REGION="us-east-1",
        TOKENDITO_AWS_OUTPUT="json",
        TOKENDITO_AWS_PROFILE=PROFILE,
        TOKENDITO_USER_CONFIG_FILE=str(home / "tokendito.ini"),
    )
    creds = home / ".aws" / "credentials"

    def code() -> dict[str, str]:
        creds.unlink(missing_ok=True)
        return {"TOKENDITO_OKTA_MFA_RESPONSE": totp_now()}

    def check(out: str, err: str, rc: int) -> str | None:
        if rc != 0:
            return f"exit code {rc}: {_tail(err)}"
        text = creds.read_text() if creds.exists() else ""
        return None if "aws_session_token" in text else f"no credentials in {creds}"

    return Case(
        "tokendito.login",
        "tokendito",
        "full login (--aws-role-arn)",
        [str(bin_dir / "tokendito"), "--aws-role-arn", ROLE_ARN, "--quiet"],
        env,
        "login",
        prepare=code,
        check=check,
        counts_requests=True,
    )
