"""okenv.store: the private store the credential cache, the Okta session store, the AWS
memory and the credentials-file lock share. The cache's own tests (test_cache.py) cover
directory safety, atomic writes and locks through its API; these cover what the other users
need and the directories okenv creates."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from okenv import report
from okenv.awsfiles import write_credentials_file
from okenv.cache import CredentialCache
from okenv.errors import OkenvError
from okenv.memory import AwsMemory
from okenv.okta.session import SavedSession, SessionStore
from okenv.store import MAX_DOCUMENT_SIZE, PrivateStore, make_private_dirs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "deep" / "er" / "okenv"


@pytest.fixture
def store(directory: Path) -> PrivateStore:
    return PrivateStore(directory)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 000: whatever okenv creates is as open as its own modes say."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_directories_okenv_creates_are_0700_whatever_the_umask(tmp_path: Path) -> None:
    """Found: the credentials file's missing parents were created 0777 & ~umask."""
    credentials = tmp_path / "home" / "a" / ".aws" / "credentials"
    write_credentials_file(credentials, {"p": {"aws_access_key_id": "AKIA"}})
    for path in (tmp_path / "home", tmp_path / "home" / "a", credentials.parent):
        assert mode(path) == 0o700, path
    assert mode(credentials) == 0o600

    cache = CredentialCache(tmp_path / "cache" / "x" / "okenv")
    with cache.lock("k"):
        pass
    for path in (tmp_path / "cache", tmp_path / "cache" / "x", cache.directory):
        assert mode(path) == 0o700, path
    assert mode(cache.directory / "k.lock") == 0o600


def test_existing_directories_are_left_as_they_are(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    make_private_dirs(tmp_path / "new")
    assert (mode(tmp_path), mode(tmp_path / "new")) == (0o755, 0o700)


def test_documents_round_trip_and_are_listed_by_prefix(tmp_path: Path) -> None:
    store = PrivateStore(tmp_path / "store")
    assert store.read("a-1") is None and store.names() == []
    store.write("a-1", {"n": 1})
    store.write("a-2", {"n": 2})
    store.write("b-1", {"n": 3})
    assert store.read("a-1") == {"n": 1}
    assert store.names("a-") == ["a-1", "a-2"]
    assert mode(store.path("a-1")) == 0o600
    assert store.remove("a-1") and not store.remove("a-1")
    assert store.names() == ["a-2", "b-1"]


def test_an_oversized_or_special_document_is_not_read(tmp_path: Path) -> None:
    store = PrivateStore(tmp_path / "store")
    store.write("big", {"pad": "x" * MAX_DOCUMENT_SIZE})
    assert store.read("big") is None
    os.mkfifo(store.path("fifo"), 0o600)
    assert store.read("fifo") is None  # never blocks on a FIFO


def test_a_subdirectory_store_refuses_an_unsafe_parent(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    sessions = SessionStore(PrivateStore(root / "okta", inside=root))
    saved = SavedSession("https://o.example", "alice", "sid", "v", 4e9)
    sessions.save(saved)
    assert sessions.load("https://o.example", "alice", now=0) == saved
    root.chmod(0o777)
    with report.captured() as warnings:
        assert sessions.load("https://o.example", "alice", now=0) is None
    assert len(warnings) == 1 and "writable by other users" in warnings[0]


def test_cannot_write_is_said_once_across_documents_and_locks(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = CredentialCache(blocker / "okenv")
    memory = AwsMemory(cache)
    with report.captured() as warnings:
        memory.remember_aliases({"123456789012": "prod"})
        with cache.lock("aws-credentials-file"):
            pass
        assert memory.aliases(["123456789012"]) is None
    assert len(warnings) == 1, warnings
    assert warnings[0].endswith("continuing without it")


def test_memory_lives_in_the_cache_directory(tmp_path: Path) -> None:
    cache = CredentialCache(tmp_path / "cache")
    AwsMemory(cache, now=lambda: 1000.0).remember_max_duration("arn:r", 7200)
    assert cache.files.names() == ["aws-memory"]
    assert AwsMemory(cache, now=lambda: 1000.0).max_duration("arn:r") == 7200
    assert cache.entries() == []  # not a credential entry


# -- locking -------------------------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from okenv.store import PrivateStore
directory, key, marker = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with PrivateStore(directory).lock(key, timeout=float(sys.argv[4])):
    print("locked", flush=True)
    sys.stdin.readline()
    if marker != "-":
        Path(marker).write_text("holder was here")
    print("releasing", flush=True)
print("released", flush=True)
"""

WAITER = """
import sys
from pathlib import Path
from okenv.store import PrivateStore
directory, key, marker = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
print("trying", flush=True)
with PrivateStore(directory).lock(key, timeout=float(sys.argv[4])):
    print("acquired", Path(marker).exists(), flush=True)
"""


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def spawn(processes: list[subprocess.Popen[str]], script: str, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    processes.append(process)
    return process


def line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def test_second_process_waits_for_the_first(
    store: PrivateStore, directory: Path, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    key = "prod-0123456789ab"
    marker = tmp_path / "marker"
    holder = spawn(processes, HOLDER, str(directory), key, str(marker), "30")
    assert line(holder) == "locked"
    with pytest.raises(OkenvError), store.lock(key, timeout=0):
        pass  # held by the other process
    waiter = spawn(processes, WAITER, str(directory), key, str(marker), "30")
    assert line(waiter) == "trying"
    with pytest.raises(OkenvError), store.lock(key, timeout=0):
        pass  # still held: the waiter is waiting
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert line(waiter) == "acquired True"  # only after the holder's critical section
    assert waiter.wait(timeout=30) == 0
    assert holder.wait(timeout=30) == 0
    with store.lock(key, timeout=0):
        pass
    assert mode(directory / f"{key}.lock") == 0o600


def test_a_killed_holder_does_not_block(
    store: PrivateStore, directory: Path, processes: list[subprocess.Popen[str]]
) -> None:
    key = "prod-0123456789ab"
    holder = spawn(processes, HOLDER, str(directory), key, "-", "30")
    assert line(holder) == "locked"
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    with store.lock(key, timeout=30):
        pass


def test_timeout_raises_a_clear_error(
    store: PrivateStore, directory: Path, processes: list[subprocess.Popen[str]]
) -> None:
    key = "prod-0123456789ab"
    holder = spawn(processes, HOLDER, str(directory), key, "-", "30")
    assert line(holder) == "locked"
    started = time.monotonic()
    with pytest.raises(OkenvError) as caught, store.lock(key, timeout=0.3):
        pass
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 5
    assert "timed out after 0.3s waiting for another okenv process" in caught.value.message
    assert caught.value.hint and f"{key}.lock" in caught.value.hint
    assert caught.value.exit_code == 3


def test_lock_is_reentrant_across_sequential_uses_and_released_on_error(
    store: PrivateStore,
) -> None:
    key = "prod-0123456789ab"
    with pytest.raises(RuntimeError), store.lock(key):
        raise RuntimeError("boom")
    with store.lock(key, timeout=0):
        pass
