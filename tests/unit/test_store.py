"""okenv.store: the private store the credential cache, the Okta session store, the AWS
memory and the credentials-file lock share. The cache's own tests (test_cache.py) cover
directory safety, atomic writes and locks through its API; these cover what the other users
need and the directories okenv creates."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from okenv.awsfiles import write_credentials_file
from okenv.cache import CredentialCache
from okenv.memory import AwsMemory
from okenv.okta.session import SavedSession, SessionStore
from okenv.store import MAX_DOCUMENT_SIZE, PrivateStore, make_private_dirs


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
    warnings: list[str] = []
    sessions = SessionStore(PrivateStore(root / "okta", warnings.append, inside=root))
    saved = SavedSession("https://o.example", "alice", "sid", "v", 4e9)
    sessions.save(saved)
    assert sessions.load("https://o.example", "alice", now=0) == saved
    root.chmod(0o777)
    assert sessions.load("https://o.example", "alice", now=0) is None
    assert len(warnings) == 1 and "writable by other users" in warnings[0]


def test_cannot_write_is_said_once_across_documents_and_locks(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings: list[str] = []
    cache = CredentialCache(blocker / "okenv", warn=warnings.append)
    memory = AwsMemory(cache)
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
