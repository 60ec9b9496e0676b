"""Many okenv processes at once: one login for one profile, different profiles in parallel,
and a writer killed between writing its temporary file and renaming it.

No sleeps stand in for synchronisation: the tests hold the fake STS (``hold`` / ``holds``)
and wait for observable conditions (requests logged at a fake, lock files open in
/proc/PID/fd, a line from the process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN, OKENV, READONLY, Sandbox

N = 16


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` (a cheap check of real state) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        threading.Event().wait(0.01)


def has_open(pid: int, path: Path) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def start(
    processes: list[subprocess.Popen[str]], box: Sandbox, *args: str
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [OKENV, *args],
        env=box.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    processes.append(process)
    return process


def evaluated(code: str) -> tuple[str, str, str]:
    """The credentials a bash that evaluates ``code`` ends up with."""
    shown = subprocess.run(
        [
            "bash",
            "--norc",
            "--noprofile",
            "-c",
            'eval "$1"; printf "%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" '
            '"$AWS_SESSION_TOKEN"',
            "_",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    return shown[0], shown[1], shown[2]


def from_process_json(text: str) -> tuple[str, str, str]:
    data = json.loads(text)
    assert data["Version"] == 1
    return data["AccessKeyId"], data["SecretAccessKey"], data["SessionToken"]


def test_sixteen_concurrent_calls_log_in_once(
    sandbox: Sandbox, processes: list[subprocess.Popen[str]]
) -> None:
    """N = 16 processes (half ``env``, half ``credential-process``) start on an empty cache.
    The first to take the profile's lock logs in and is held at STS until all 16 provably
    wait on that lock (each has the lock file open); then they all finish with the same
    credentials, from one login, and the cache holds one valid file."""
    hold = threading.Event()
    sandbox.sts.hold = hold
    began = time.monotonic()
    commands = [
        ("env", "admin", "--shell", "bash") if i % 2 else ("credential-process", "admin")
        for i in range(N)
    ]
    started = [start(processes, sandbox, *command) for command in commands]

    def all_waiting() -> bool:
        locks = list(sandbox.cache_dir.glob("admin-*.lock")) if sandbox.cache_dir.exists() else []
        if len(locks) != 1 or not sandbox.sts.calls:
            return False
        return all(p.poll() is None and has_open(p.pid, locks[0]) for p in started)

    try:
        wait_for(all_waiting, "16 processes on one lock, one of them at STS")
        assert len(sandbox.sts.calls) == 1
    finally:
        hold.set()
    results = [p.communicate(timeout=60) for p in started]
    elapsed = time.monotonic() - began
    assert [p.returncode for p in started] == [0] * N, [err for _, err in results]
    assert all(err == "" for _, err in results), [err for _, err in results]

    seen = {
        from_process_json(out) if command[0] == "credential-process" else evaluated(out)
        for command, (out, _) in zip(commands, results, strict=True)
    }
    assert len(seen) == 1
    assert sandbox.okta.count(method="POST", path="/api/v1/authn") == 1
    assert sandbox.sts.actions() == ["AssumeRoleWithSAML"]
    [cache_file] = sandbox.cache_dir.glob("admin-*.json")
    document = json.loads(cache_file.read_text())
    assert document["credentials"]["access_key_id"] == seen.pop()[0]
    assert not list(sandbox.cache_dir.rglob("*.tmp"))
    print(f"\n{N} concurrent calls: 1 login, {elapsed:.2f} s wall time")


def test_different_profiles_proceed_in_parallel(
    sandbox: Sandbox, processes: list[subprocess.Popen[str]]
) -> None:
    """Profile A's login is held at STS (its lock taken); profile B logs in and finishes
    meanwhile: locks are per profile, and the Okta session is not held during STS."""
    held = threading.Event()
    sandbox.sts.holds[ADMIN] = held
    first = start(processes, sandbox, "env", "admin", "--shell", "bash")
    try:
        wait_for(
            lambda: any(params.get("RoleArn") == ADMIN for _, params in list(sandbox.sts.calls)),
            "profile admin to reach STS",
        )
        second = sandbox.run("env", "readonly", "--shell", "bash", timeout=60)
        assert second.returncode == 0, second.stderr
        assert first.poll() is None  # A is still held while B has finished
        assert evaluated(second.stdout)[0].startswith("ASIA")
    finally:
        held.set()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert evaluated(out)[0] != evaluated(second.stdout)[0]
    arns = [params["RoleArn"] for _, params in sandbox.sts.calls]
    assert arns == [ADMIN, READONLY]
    # One MFA for both: B reused the Okta session A had saved (or A's sign-in, serialised).
    assert sandbox.okta.count(method="POST", path="/api/v1/authn") == 1


KILL_BEFORE_RENAME = """
import os, sys
from okenv.main import main

target = sys.argv[1]


def pause_before_rename(event, args):
    # os.replace raises the "os.rename" audit event just before the rename itself.
    if event == "os.rename" and os.fspath(args[1]).startswith(target):
        os.write(2, b"renaming\\n")
        os.read(0, 1)  # until the test kills this process


sys.addaudithook(pause_before_rename)
main(sys.argv[2:])
"""


def test_writer_killed_between_write_and_rename(
    sandbox: Sandbox, processes: list[subprocess.Popen[str]]
) -> None:
    """SIGKILL after the new entry is written and fsynced to its temporary file, before the
    rename: the old entry stays whole and is used; the stray temporary harms nothing."""
    first = sandbox.run("env", "admin", "--shell", "bash")
    assert first.returncode == 0, first.stderr
    [cache_file] = sandbox.cache_dir.glob("admin-*.json")
    old = cache_file.read_bytes()

    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_BEFORE_RENAME,
            str(sandbox.cache_dir / "admin-"),
            "env",
            "admin",
            "--shell",
            "bash",
            "--force",
        ],
        env=sandbox.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    processes.append(writer)
    assert writer.stderr is not None
    assert writer.stderr.readline() == "renaming\n"
    os.killpg(writer.pid, signal.SIGKILL)
    assert writer.wait(timeout=30) == -signal.SIGKILL
    assert sandbox.sts.actions() == ["AssumeRoleWithSAML"] * 2  # the new login happened

    assert cache_file.read_bytes() == old  # untouched, still valid
    [stray] = sandbox.cache_dir.glob(".admin-*.tmp")
    new = json.loads(stray.read_text())  # written whole before the rename
    assert new["credentials"]["access_key_id"] != json.loads(old)["credentials"]["access_key_id"]

    again = sandbox.run("env", "admin", "--shell", "bash")
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert again.stdout == first.stdout  # the old entry, from the cache
    assert sandbox.sts.actions() == ["AssumeRoleWithSAML"] * 2
    assert sandbox.run("logout").returncode == 0
    assert not list(sandbox.cache_dir.glob(".*.tmp"))  # logout sweeps strays
