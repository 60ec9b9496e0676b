"""A local sandbox: the fake Okta org and the fake STS on loopback, and okenv configured for them.

    python -m tests.fakes.sandbox demo    # commands typed into a bash on a pty, as a user would
    python -m tests.fakes.sandbox shell   # an interactive bash with the sandbox running

Nothing leaves the machine: proxies point at a dead loopback port, instance metadata is off,
AWS config files are empty temp files, and STS is the fake (AWS_ENDPOINT_URL_STS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeOkta
from tests.fakes.signin import FakeSignin
from tests.fakes.sts import FakeSts

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

DEMO_COMMANDS = (
    "okenv use demo",
    "env | grep -E '^(AWS_ACCESS_KEY_ID|AWS_REGION|OKENV_PROFILE|OKENV_ROLE_ARN)='",
    "okenv exec demo -- python3 -c 'import boto3; "
    'print(boto3.client("sts").get_caller_identity()["Arn"])\'',
    "okenv login demo",
    "okenv status",
    "okenv exec demo-readonly -- sh -c 'echo \"$OKENV_ROLE_ARN in $AWS_REGION\"'",
    "okenv unset",
    "okenv exec demo-readonly -- sh -c 'echo \"$OKENV_ROLE_ARN in $AWS_REGION\"'",
)
"""What `make demo` types, one command at a time, into an interactive bash on a pty."""

ALIASES = {"123456789012": "demo-prod"}
PROMPT = "sandbox$ "


def rc_file(work: Path, *, demo: bool) -> Path:
    """The sandbox shell's rc: the shell integration with its prompt segment, the
    completions, and (by hand) ``sandbox_code`` for the current TOTP code."""
    rc = work / "bashrc"
    lines = [
        "bind 'set enable-bracketed-paste off' 2>/dev/null",
        "OKENV_PROMPT=1",
        f"PS1='{PROMPT}'",
        'eval "$(okenv init bash)"',
        'eval "$(okenv completions bash)"',
    ]
    if not demo:
        lines.append(
            f"sandbox_code() {{ PYTHONPATH={ROOT} {sys.executable} -c "
            "'from tests.fakes.okta import *; print(totp_now(DEFAULT_TOTP_SECRET))'; }"
        )
    rc.write_text("\n".join(lines) + "\n")
    return rc


def demo(env: dict[str, str], work: Path) -> int:
    """Type :data:`DEMO_COMMANDS` into a shell on a pty, answering the login's prompts the
    way a person would (the password is not echoed; the code is)."""
    from tests.fakes.okta import totp_now
    from tests.fakes.terminal import Terminal

    rc = rc_file(work, demo=True)
    env = {**env, "TERM": env.get("TERM") or "xterm"}
    shell = Terminal(["bash", "--noprofile", "--rcfile", str(rc), "-i"], env, PROMPT)
    answers = {
        f"Okta password for {DEFAULT_USERNAME}: ": lambda: DEFAULT_PASSWORD,
        "MFA code (Google Authenticator): ": lambda: totp_now(DEFAULT_TOTP_SECRET),
    }
    try:
        shell.wait({})
        for command in DEMO_COMMANDS:
            shell.type(command, answers)
    finally:
        code = shell.close()
    sys.stdout.write("\n")
    return code


def sandbox_env(okta: FakeOkta, sts: FakeSts, work: Path) -> dict[str, str]:
    aws = work / "aws"
    aws.mkdir(parents=True, exist_ok=True)
    (aws / "config").write_text("")
    (aws / "credentials").write_text("")
    config = work / "config.toml"
    config.write_text(
        f"""# okenv sandbox config (written by tests/fakes/sandbox.py)
[defaults]
app_url  = "{okta.app_url}"
username = "{DEFAULT_USERNAME}"
factor   = "totp"
region   = "us-east-1"

[profiles.demo]
role = "arn:aws:iam::123456789012:role/Admin"

[profiles.demo-readonly]
role   = "210987654321/ReadOnly"
region = "eu-west-1"

[profiles.demo-pick]
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OKENV_"))}
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "OKENV_CONFIG": str(config),
            "OKENV_CACHE_DIR": str(work / "cache"),
            "AWS_ENDPOINT_URL_STS": sts.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return env


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "demo"
    if mode not in ("demo", "shell"):
        sys.stderr.write("usage: python -m tests.fakes.sandbox [demo|shell]\n")
        return 2
    work = ROOT / ".demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    with FakeOkta() as okta, FakeSts() as sts, FakeSignin(aliases=ALIASES, sts=sts) as signin:
        env = sandbox_env(okta, sts, work)
        env["OKENV_AWS_SIGNIN_URL"] = signin.url
        print(f"sandbox: fake Okta org at {okta.url}, fake STS at {sts.url}")
        print(f"sandbox: fake AWS sign-in page at {signin.url}")
        print(f"sandbox: user {DEFAULT_USERNAME!r}, password {DEFAULT_PASSWORD!r}")
        print(f"sandbox: TOTP seed {DEFAULT_TOTP_SECRET}")
        if mode == "demo":
            code = demo(env, work)
            print(f"sandbox: {len(okta.requests)} requests to Okta, {len(sts.calls)} to STS")
            return code
        print("sandbox: try `okenv use demo`, `okenv demo-pick` (a role menu),")
        print("         `okenv roles demo`, `okenv console demo --print`, `okenv exec demo -- env`")
        print("         (TAB completes). okenv asks for the password and a code: `sandbox_code`")
        print("         prints the current code. Exit the shell to stop the sandbox.")
        rc = rc_file(work, demo=False)
        return subprocess.run(
            ["bash", "--noprofile", "--rcfile", str(rc), "-i"], env=env
        ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
