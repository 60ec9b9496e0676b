"""Editing the AWS shared credentials file: only the owned keys of the named sections
change; every other byte stays; the write is atomic and private; botocore reads it."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import botocore.session
import pytest

from okenv.awsfiles import (
    credentials_file_path,
    credentials_section,
    profile_name,
    set_sections,
    write_credentials_file,
)
from okenv.credentials import Credentials
from okenv.errors import UsageError

ORIGINAL = """\
# AWS credentials -- managed by hand, please keep this comment
[default]
aws_access_key_id = AKIADEFAULTDEFAULT00
aws_secret_access_key = defaultsecret ; trailing comment stays

; a comment before okenv's profile
[okenv-prod]   # inline comment on the header
aws_access_key_id=OLDKEY
region = eu-west-1
aws_secret_access_key  :  oldsecret
aws_security_token = stale-token
aws_session_token = old-token
    continued-old-token-line
# keep me: a comment inside the section
x_security_token_expires = 2020-01-01T00:00:00Z

[other]
aws_access_key_id = AKIAOTHER
aws_secret_access_key = othersecret
"""

NEW = {
    "aws_access_key_id": "ASIANEW",
    "aws_secret_access_key": "newsecret",
    "aws_session_token": "newtoken",
    "x_security_token_expires": "2030-01-01T00:00:00Z",
}


def test_replaces_only_the_owned_keys_of_one_section() -> None:
    result = set_sections(ORIGINAL, {"okenv-prod": NEW})
    expected = ORIGINAL.replace(
        """[okenv-prod]   # inline comment on the header
aws_access_key_id=OLDKEY
region = eu-west-1
aws_secret_access_key  :  oldsecret
aws_security_token = stale-token
aws_session_token = old-token
    continued-old-token-line
# keep me: a comment inside the section
x_security_token_expires = 2020-01-01T00:00:00Z
""",
        """[okenv-prod]   # inline comment on the header
aws_access_key_id = ASIANEW
aws_secret_access_key = newsecret
aws_session_token = newtoken
x_security_token_expires = 2030-01-01T00:00:00Z
region = eu-west-1
# keep me: a comment inside the section
""",
    )
    assert result == expected
    # Everything before and after the section is byte for byte the same.
    head, tail = ORIGINAL.split("[okenv-prod]")[0], ORIGINAL.split("[other]")[1]
    assert result.startswith(head) and result.endswith("[other]" + tail)


def test_is_idempotent() -> None:
    once = set_sections(ORIGINAL, {"okenv-prod": NEW})
    assert set_sections(once, {"okenv-prod": NEW}) == once


def test_appends_a_missing_section_after_a_blank_line() -> None:
    result = set_sections(ORIGINAL, {"new": NEW})
    assert result.startswith(ORIGINAL)
    assert result[len(ORIGINAL) :] == (
        "\n[new]\n"
        "aws_access_key_id = ASIANEW\naws_secret_access_key = newsecret\n"
        "aws_session_token = newtoken\nx_security_token_expires = 2030-01-01T00:00:00Z\n"
    )


def test_file_without_final_newline_and_empty_file() -> None:
    assert set_sections("[a]\nx = 1", {"b": {"k": "v"}}) == "[a]\nx = 1\n\n[b]\nk = v\n"
    assert set_sections("", {"b": {"k": "v"}}) == "[b]\nk = v\n"
    assert set_sections("[b]", {"b": {"k": "v"}}) == "[b]\nk = v\n"


def test_crlf_files_keep_crlf() -> None:
    text = "# c\r\n[a]\r\naws_access_key_id = OLD\r\nregion = x\r\n"
    assert set_sections(text, {"a": {"aws_access_key_id": "NEW"}, "b": {"k": "v"}}) == (
        "# c\r\n[a]\r\naws_access_key_id = NEW\r\nregion = x\r\n\r\n[b]\r\nk = v\r\n"
    )


def test_duplicate_sections_lose_stale_keys() -> None:
    text = "[a]\naws_session_token = one\n[b]\n[a]\naws_session_token = two\nregion = r\n"
    assert set_sections(text, {"a": {"aws_session_token": "new"}}) == (
        "[a]\naws_session_token = new\n[b]\n[a]\nregion = r\n"
    )


def test_other_keys_and_lookalikes_are_untouched() -> None:
    text = "[a]\n#aws_access_key_id = commented\naws_access_key_id_extra = keep\n"
    assert set_sections(text, {"a": {"aws_access_key_id": "N"}}) == (
        "[a]\naws_access_key_id = N\n#aws_access_key_id = commented\n"
        "aws_access_key_id_extra = keep\n"
    )


def test_section_names_are_checked() -> None:
    assert profile_name("prod-main-Admin") == "prod-main-Admin"
    for bad in ("", "a]b", "a b", "x\n[y]", "profile x"):
        with pytest.raises(UsageError):
            profile_name(bad)


def creds() -> Credentials:
    return Credentials(
        access_key_id="ASIAWRITTEN",
        secret_access_key="written/secret+key",
        session_token="written-token==",
        expiration=datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC),
        role_arn="arn:aws:iam::123456789012:role/Admin",
    )


def test_write_keeps_bytes_is_private_and_botocore_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "aws" / "credentials"
    path.parent.mkdir()
    path.write_text(ORIGINAL)
    os.chmod(path, 0o644)
    inode = path.stat().st_ino

    written = write_credentials_file(path, {"okenv-prod": credentials_section(creds())})

    assert written == path
    data = path.read_text()
    assert data == set_sections(ORIGINAL, {"okenv-prod": credentials_section(creds())})
    assert "x_security_token_expires = 2030-05-06T07:08:09Z\n" in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert [p.name for p in path.parent.iterdir()] == ["credentials"]  # no temporary left

    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    loaded = botocore.session.Session(profile="okenv-prod").get_credentials()
    assert loaded is not None
    assert (loaded.access_key, loaded.secret_key, loaded.token) == (
        "ASIAWRITTEN",
        "written/secret+key",
        "written-token==",
    )


def test_bytes_that_are_not_utf8_survive(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    original = b"# caf\xe9 in latin-1\r\n[a]\r\naws_access_key_id = OLD\r\n[z]\r\nk = \xff\r\n"
    path.write_bytes(original)
    write_credentials_file(path, {"a": {"aws_access_key_id": "NEW"}})
    assert path.read_bytes() == original.replace(b"OLD", b"NEW")


def test_write_creates_the_file_and_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".aws" / "credentials"
    write_credentials_file(path, {"a": {"aws_access_key_id": "X"}})
    assert path.read_text() == "[a]\naws_access_key_id = X\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_write_follows_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real-credentials"
    real.write_text("[x]\n")
    link = tmp_path / "credentials"
    link.symlink_to(real)
    write_credentials_file(link, {"a": {"k": "v"}})
    assert link.is_symlink()
    assert real.read_text() == "[x]\n\n[a]\nk = v\n"


def test_path_from_environment(tmp_path: Path) -> None:
    assert credentials_file_path({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "c")}) == (
        tmp_path / "c"
    )
    assert credentials_file_path({}) == Path("~/.aws/credentials").expanduser()
