from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okenv import report
from okenv.cache import MIN_REMAINING, CredentialCache
from okenv.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/Admin"


def creds(seconds: float = 3600, token: str = "token", role: str = ROLE) -> Credentials:
    expiration = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return Credentials("AKIAEXAMPLE", "secret/key+", token, expiration, role, "eu-west-1")


class Warnings:
    """The warnings okenv.report gave while the test ran (without ``warning: ``)."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    @property
    def messages(self) -> list[str]:
        return [
            line.removeprefix("warning: ") for line in self._lines if line.startswith("warning: ")
        ]


@pytest.fixture
def warnings() -> Iterator[Warnings]:
    with report.captured() as lines:
        yield Warnings(lines)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "deep" / "er" / "okenv"


@pytest.fixture
def cache(directory: Path, warnings: Warnings) -> CredentialCache:
    return CredentialCache(directory)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(text)
    path.chmod(0o600)


# -- keys ----------------------------------------------------------------------------------


def test_key_is_stable_readable_and_unique() -> None:
    key = CredentialCache.key("prod-admin", ROLE)
    digest = hashlib.sha256(f"prod-admin\0{ROLE}".encode()).hexdigest()[:12]
    assert key == f"prod-admin-{digest}"
    assert key == CredentialCache.key("prod-admin", ROLE)
    keys = {
        CredentialCache.key("prod-admin", ROLE),
        CredentialCache.key("prod-admin", None),
        CredentialCache.key("prod-admin", "arn:aws:iam::123456789012:role/Other"),
        CredentialCache.key("dev", ROLE),
        CredentialCache.key("a/b", ROLE),
        CredentialCache.key("a_b", ROLE),  # sanitizes like a/b, still its own key
    }
    assert len(keys) == 6


@given(st.text(), st.one_of(st.none(), st.text()))
def test_key_is_always_a_safe_file_name(profile: str, role: str | None) -> None:
    key = CredentialCache.key(profile, role)
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}-[0-9a-f]{12}", key)
    assert not key.startswith(".")


def test_invalid_keys_are_rejected(cache: CredentialCache) -> None:
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            cache.load(bad)


# -- round trip, permissions ---------------------------------------------------------------


def test_round_trip_with_private_permissions(
    cache: CredentialCache, directory: Path, tmp_path: Path, warnings: Warnings
) -> None:
    key = CredentialCache.key("prod", ROLE)
    assert cache.load(key) is None
    original = creds()
    old_umask = os.umask(0o022)
    try:
        cache.store(key, "prod", original)
    finally:
        os.umask(old_umask)
    assert cache.load(key) == original
    path = directory / f"{key}.json"
    assert mode(path) == 0o600
    for made in (directory, directory.parent, directory.parent.parent):
        assert mode(made) == 0o700, made
    document = json.loads(path.read_text())
    assert document == {"version": 1, "profile": "prod", "credentials": original.to_dict()}
    assert sorted(os.listdir(directory)) == [f"{key}.json"]
    assert warnings.messages == []


def test_store_overwrites(cache: CredentialCache) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds(token="one"))
    cache.store(key, "prod", creds(token="two"))
    hit = cache.load(key)
    assert hit is not None and hit.session_token == "two"


def test_min_remaining_window(cache: CredentialCache) -> None:
    soon, later = CredentialCache.key("soon", None), CredentialCache.key("later", None)
    cache.store(soon, "soon", creds(seconds=4 * 60))
    cache.store(later, "later", creds(seconds=6 * 60))
    assert MIN_REMAINING == 300
    assert cache.load(soon) is None
    assert cache.load(later) is not None
    assert cache.load(soon, min_remaining=0) is not None
    cache.store(soon, "soon", creds(seconds=-10))
    assert cache.load(soon, min_remaining=0) is None


# -- junk on disk --------------------------------------------------------------------------


def valid_document() -> dict[str, Any]:
    return {"version": 1, "profile": "prod", "credentials": creds().to_dict()}


def with_credentials(**changes: Any) -> str:
    document = valid_document()
    document["credentials"].update(changes)
    return json.dumps(document)


JUNK = {
    "empty": "",
    "not json": "hello",
    "truncated": json.dumps(valid_document())[:57],
    "binary": "\udcff\x00",
    "list": "[1, 2]",
    "foreign version": json.dumps({**valid_document(), "version": 2}),
    "no version": json.dumps({k: v for k, v in valid_document().items() if k != "version"}),
    "profile not a string": json.dumps({**valid_document(), "profile": 5}),
    "credentials not a dict": json.dumps({**valid_document(), "credentials": "x"}),
    "missing field": json.dumps(
        {**valid_document(), "credentials": {"access_key_id": "AKIA", "expiration": "x"}}
    ),
    "bad expiration": with_credentials(expiration="tomorrow"),
    "expiration not a string": with_credentials(expiration=12),
    "empty key": with_credentials(access_key_id=""),
    "region not a string": with_credentials(region=["eu"]),
}


@pytest.mark.parametrize("name", sorted(JUNK))
def test_junk_is_a_miss_and_is_overwritten(
    name: str, cache: CredentialCache, directory: Path, warnings: Warnings
) -> None:
    key = CredentialCache.key("prod", ROLE)
    path = directory / f"{key}.json"
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(JUNK[name].encode("utf-8", "surrogateescape"))
    path.chmod(0o600)
    assert cache.load(key) is None
    assert cache.entries() == []
    cache.store(key, "prod", creds())
    assert cache.load(key) is not None
    assert warnings.messages == []


def test_huge_file_and_directory_and_fifo_are_misses(
    cache: CredentialCache, directory: Path
) -> None:
    huge, folder, fifo = (CredentialCache.key(name, None) for name in ("huge", "dir", "fifo"))
    write_private(directory / f"{huge}.json", " " * 100_000 + json.dumps(valid_document()))
    (directory / f"{folder}.json").mkdir(mode=0o700)
    os.mkfifo(directory / f"{fifo}.json", 0o600)
    for key in (huge, folder, fifo):
        assert cache.load(key) is None  # and the FIFO did not block


def test_symlinked_file_is_not_followed(cache: CredentialCache, directory: Path) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds())
    target = directory / "elsewhere"
    os.replace(directory / f"{key}.json", target)
    (directory / f"{key}.json").symlink_to(target)
    assert cache.load(key) is None


# -- security ------------------------------------------------------------------------------


def test_refuses_a_group_readable_file(
    cache: CredentialCache, directory: Path, warnings: Warnings
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds())
    (directory / f"{key}.json").chmod(0o640)
    assert cache.load(key) is None
    assert cache.load(key) is None
    assert len(warnings.messages) == 1
    assert "readable by other users" in warnings.messages[0]
    assert cache.entries() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_refuses_a_file_owned_by_someone_else(
    cache: CredentialCache, directory: Path, warnings: Warnings
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds())
    os.chown(directory / f"{key}.json", 12345, 12345)
    assert cache.load(key) is None
    assert warnings.messages and "not yours" in warnings.messages[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_refuses_a_directory_owned_by_someone_else(
    cache: CredentialCache, directory: Path, warnings: Warnings
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds())
    os.chown(directory, 12345, 12345)
    assert cache.load(key) is None
    assert warnings.messages and "another user" in warnings.messages[0]


def test_refuses_a_world_writable_directory(
    cache: CredentialCache, directory: Path, warnings: Warnings
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds(token="before"))
    directory.chmod(0o777)
    assert cache.load(key) is None
    cache.store(key, "prod", creds(token="after"))  # refused: nothing written
    assert cache.entries() == []
    assert len(warnings.messages) == 1
    assert "writable by other users" in warnings.messages[0]
    directory.chmod(0o700)
    hit = cache.load(key)
    assert hit is not None and hit.session_token == "before"


def test_refuses_a_group_writable_directory(
    cache: CredentialCache, directory: Path, warnings: Warnings
) -> None:
    directory.mkdir(parents=True)
    directory.chmod(0o770)
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    assert os.listdir(directory) == []
    assert len(warnings.messages) == 1


# -- cannot write --------------------------------------------------------------------------


def test_directory_below_a_regular_file_warns_once(tmp_path: Path, warnings: Warnings) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = CredentialCache(blocker / "okenv")
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds())
    cache.store(key, "prod", creds())
    assert cache.load(key) is None
    assert cache.entries() == []
    with cache.lock(key):  # no cache, no lock, no failure
        pass
    assert len(warnings.messages) == 1
    assert warnings.messages[0].startswith(f"cannot write the cache at {blocker / 'okenv'}:")
    assert warnings.messages[0].endswith("continuing without it")


def test_cache_path_that_is_a_file_warns_once(tmp_path: Path, warnings: Warnings) -> None:
    blocker = tmp_path / "okenv"
    blocker.write_text("")
    cache = CredentialCache(blocker)
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    assert len(warnings.messages) == 1
    assert "not a directory" in warnings.messages[0]


def test_permission_denied_on_mkdir_warns_once(
    cache: CredentialCache, warnings: Warnings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: Any, mode: int = 0o777) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "mkdir", denied)
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    assert len(warnings.messages) == 1
    assert "Permission denied; continuing without it" in warnings.messages[0]


def test_permission_denied_on_the_temp_file_warns_once(
    cache: CredentialCache, directory: Path, warnings: Warnings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def open_(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if flags & os.O_EXCL:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    cache.store(CredentialCache.key("prod", None), "prod", creds())
    assert len(warnings.messages) == 1
    assert os.listdir(directory) == []


# -- atomic replace ------------------------------------------------------------------------


def test_failed_fsync_keeps_the_old_file(
    cache: CredentialCache, directory: Path, warnings: Warnings, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds(token="old"))
    before = (directory / f"{key}.json").read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    cache.store(key, "prod", creds(token="new"))
    monkeypatch.undo()
    assert (directory / f"{key}.json").read_bytes() == before
    assert os.listdir(directory) == [f"{key}.json"]
    hit = cache.load(key)
    assert hit is not None and hit.session_token == "old"
    assert len(warnings.messages) == 1
    assert "No space left on device; continuing without it" in warnings.messages[0]


def test_short_write_then_failure_keeps_the_old_file(
    cache: CredentialCache, directory: Path, warnings: Warnings, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds(token="old"))
    before = (directory / f"{key}.json").read_bytes()
    real_write = os.write
    calls: list[int] = []

    def flaky(fd: int, data: Any) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:10]))  # partial write: must be continued
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", flaky)
    cache.store(key, "prod", creds(token="new"))
    monkeypatch.undo()
    assert len(calls) == 2 and calls[1] == calls[0] - 10
    assert (directory / f"{key}.json").read_bytes() == before
    assert os.listdir(directory) == [f"{key}.json"]
    assert len(warnings.messages) == 1


def test_partial_writes_are_completed(
    cache: CredentialCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def dribble(fd: int, data: Any) -> int:
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", dribble)
    key = CredentialCache.key("prod", ROLE)
    original = creds()
    cache.store(key, "prod", original)
    monkeypatch.undo()
    assert cache.load(key) == original


def test_interrupt_during_write_leaves_no_temp_file(
    cache: CredentialCache, directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = CredentialCache.key("prod", ROLE)
    cache.store(key, "prod", creds(token="old"))

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.store(key, "prod", creds(token="new"))
    monkeypatch.undo()
    assert os.listdir(directory) == [f"{key}.json"]
    hit = cache.load(key)
    assert hit is not None and hit.session_token == "old"


# -- remove, entries -----------------------------------------------------------------------


def test_remove_and_entries(cache: CredentialCache, directory: Path) -> None:
    other = "arn:aws:iam::123456789012:role/Other"
    cache.store(CredentialCache.key("prod", ROLE), "prod", creds(role=ROLE))
    cache.store(CredentialCache.key("prod", other), "prod", creds(role=other))
    cache.store(CredentialCache.key("a/b", None), "a/b", creds())
    cache.store(CredentialCache.key("a_b", None), "a_b", creds())
    cache.store(CredentialCache.key("old", None), "old", creds(seconds=-60))
    write_private(directory / "junk-0123456789ab.json", "junk")
    write_private(directory / ".prod-0123456789ab.1.2.3.tmp", "stray")

    listed = cache.entries()
    assert [name for name, _ in listed] == ["a/b", "a_b", "old", "prod", "prod"]
    assert [c.role_arn for name, c in listed if name == "prod"] == [ROLE, other]

    assert cache.remove("prod") == 2
    assert cache.remove("prod") == 0
    assert cache.remove("a_b") == 1
    assert [name for name, _ in cache.entries()] == ["a/b", "old"]
    assert cache.remove("nobody") == 0
    assert cache.remove() == 3  # a/b, old and the junk file
    assert os.listdir(directory) == []


def test_remove_and_entries_without_a_directory(cache: CredentialCache) -> None:
    assert cache.entries() == []
    assert cache.remove() == 0
    assert cache.remove("prod") == 0
