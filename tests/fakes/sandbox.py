"""A local sandbox: the fake Okta org and the fake STS on loopback, and okenv configured for them.

    python -m tests.fakes.sandbox demo    # scripted: eval "$(okenv demo)", okenv exec demo -- …
    python -m tests.fakes.sandbox shell   # an interactive bash with the sandbox running

Nothing leaves the machine: proxies point at a dead loopback port, instance metadata is off,
AWS config files are empty temp files, and STS is the fake (AWS_ENDPOINT_URL_STS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeOkta
from tests.fakes.sts import FakeSts

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

DEMO_SCRIPT = r"""
set -eu
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
step 'eval "$(okenv demo)"'
eval "$(okenv demo)"
env | grep -E '^(AWS_|OKENV_)' \
    | grep -vE '^OKENV_(PASSWORD|TOTP_SECRET|CONFIG|CACHE_DIR)=' \
    | grep -vE '^AWS_(ENDPOINT_URL_STS|CONFIG_FILE|SHARED_CREDENTIALS_FILE|EC2_METADATA_DIS)' \
    | sed -E 's/^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)=(.{8}).*/\1=\2…/' | sort
step 'okenv exec demo -- python -c "…boto3 sts get_caller_identity…"'
okenv exec demo -- python -c 'import boto3; print(boto3.client("sts").get_caller_identity()["Arn"])'
step 'okenv demo   # again: served from the cache, no network'
okenv demo --shell bash | grep OKENV_PROFILE
step 'okenv status'
okenv status
step 'eval "$(okenv unset)"; echo "${AWS_ACCESS_KEY_ID:-<unset>}"'
eval "$(okenv unset)"; echo "${AWS_ACCESS_KEY_ID:-<unset>}"
step 'okenv exec demo-readonly -- sh -c '"'"'echo "$OKENV_ROLE_ARN in $AWS_REGION"'"'"
okenv exec demo-readonly -- sh -c 'echo "$OKENV_ROLE_ARN in $AWS_REGION"'
"""


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
    with FakeOkta() as okta, FakeSts() as sts:
        env = sandbox_env(okta, sts, work)
        print(f"sandbox: fake Okta org at {okta.url}, fake STS at {sts.url}")
        print(f"sandbox: user {DEFAULT_USERNAME!r}, password {DEFAULT_PASSWORD!r}")
        print(f"sandbox: TOTP seed {DEFAULT_TOTP_SECRET}")
        if mode == "demo":
            env["OKENV_PASSWORD"] = DEFAULT_PASSWORD
            env["OKENV_TOTP_SECRET"] = DEFAULT_TOTP_SECRET
            print("sandbox: OKENV_PASSWORD and OKENV_TOTP_SECRET are set for a hands-off run")
            result = subprocess.run(["bash", "--norc", "--noprofile", "-c", DEMO_SCRIPT], env=env)
            print(f"\nsandbox: {len(okta.requests)} requests to Okta, {len(sts.calls)} to STS")
            return result.returncode
        with tempfile.NamedTemporaryFile("w", suffix=".bashrc", delete=False) as rc:
            rc.write("eval \"$(okenv init bash)\"\nPS1='[okenv sandbox] \\w $ '\n")
            rc.write(
                f"sandbox_code() {{ PYTHONPATH={ROOT} {sys.executable} -c "
                "'from tests.fakes.okta import *; print(totp_now(DEFAULT_TOTP_SECRET))'; }\n"
            )
        print("sandbox: try `okenv use demo`, `okenv demo-pick`, `okenv exec demo -- env`;")
        print("         okenv asks for the password and a code: `sandbox_code` prints the")
        print("         current code. Exit the shell to stop the sandbox.")
        try:
            return subprocess.run(["bash", "--rcfile", rc.name, "-i"], env=env).returncode
        finally:
            os.unlink(rc.name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
