"""The AWS shared credentials file (``AWS_SHARED_CREDENTIALS_FILE`` or ``~/.aws/credentials``).

``okenv login PROFILE --aws-profile NAME`` writes the credentials into section ``[NAME]``
for tools that read profiles. :func:`set_sections` is the pure edit: it rewrites only the
credential keys of the named sections (appending a section that does not exist yet) and
keeps every other byte — comments, order, blank lines, other profiles, line endings, even
bytes that are not UTF-8. :func:`write_credentials_file` does the I/O: read, edit, write a
0600 temporary file next to it, fsync, rename.

Lines are split exactly as botocore's INI reader splits them (``\n``, ``\r\n``, ``\r``;
not ``str.splitlines``, which also breaks on form feeds and U+2028), and no value with a
line break or control character is ever written: otherwise a value could start a section of
its own (a ``[default]`` with a ``credential_process``). A symlink at the path is followed
only when it and its target belong to this user (or root) and the target is a regular file:
a link planted by another user in a shared directory is refused.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from okenv.credentials import Credentials, rfc3339
from okenv.errors import ConfigError, UsageError
from okenv.files import write_private
from okenv.store import make_private_dirs

__all__ = [
    "OWNED_KEYS",
    "config_file_path",
    "credentials_file_path",
    "credentials_section",
    "profile_name",
    "set_sections",
    "write_config_profiles",
    "write_credentials_file",
]

OWNED_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",  # botocore prefers it over aws_session_token: a stale one must go
    "x_security_token_expires",
)
_HEADER = re.compile(r"^[ \t]*\[(?P<name>[^\]\r\n]*)\][ \t]*(?:[#;].*)?$")
_KEY = re.compile(r"^[ \t]*(?P<key>[^=:\s#;\[][^=:]*?)[ \t]*[=:]")
_NAME_OK = re.compile(r"^[A-Za-z0-9_+=,.@:/-]+$")
_MAX_SIZE = 16 * 1024 * 1024
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # botocore's (universal newlines)
_UNSAFE_VALUE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MAX_LINKS = 40
_LINK_HINT = "remove the link, or point AWS_SHARED_CREDENTIALS_FILE at your own file"


def credentials_file_path(environ: Mapping[str, str]) -> Path:
    configured = environ.get("AWS_SHARED_CREDENTIALS_FILE", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path("~/.aws/credentials").expanduser()


def profile_name(name: str) -> str:
    """``name`` if it is a usable section name, else :class:`UsageError`."""
    if not _NAME_OK.fullmatch(name) or name.lower().startswith("profile "):
        raise UsageError(
            f"invalid AWS profile name {name!r}",
            hint="use letters, digits and _+=,.@:/- (no spaces or brackets)",
        )
    return name


def credentials_section(creds: Credentials) -> dict[str, str]:
    return {
        "aws_access_key_id": creds.access_key_id,
        "aws_secret_access_key": creds.secret_access_key,
        "aws_session_token": creds.session_token,
        "x_security_token_expires": rfc3339(creds.expiration),
    }


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _eol(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def config_file_path(environ: Mapping[str, str]) -> Path:
    """``AWS_CONFIG_FILE`` or ``~/.aws/config``."""
    configured = environ.get("AWS_CONFIG_FILE", "").strip()
    return Path(configured or "~/.aws/config").expanduser()


def section_names(text: str) -> set[str]:
    """The section headers of an INI text, as botocore reads them."""
    found = (_HEADER.match(line.rstrip("\r\n")) for line in _LINE.findall(text))
    return {match["name"].strip() for match in found if match is not None}


def set_sections(
    text: str, sections: Mapping[str, Mapping[str, str]], owned: Collection[str] = OWNED_KEYS
) -> str:
    """``text`` with each named section's owned keys replaced by the given values.

    In an existing section the values go right under its header and earlier values of the
    owned keys (with their continuation lines) go away; everything else stays. The first
    of duplicate sections gets the values, later duplicates lose the owned keys. Missing
    sections are appended at the end, after a blank line.
    """
    for name, values in sections.items():
        for owned_key, value in values.items():
            if _UNSAFE_VALUE.search(owned_key + value):
                raise ConfigError(
                    f"refusing to write {owned_key} of [{name}] into an AWS file: "
                    "it contains a line break or a control character"
                )
    newline = _newline(text)
    lines: list[str] = _LINE.findall(text)
    out: list[str] = []
    current: str | None = None
    written: set[str] = set()
    dropping = False  # inside a continuation of a removed key
    for line in lines:
        body = line.rstrip("\r\n")
        header = _HEADER.match(body)
        if header is not None:
            current = header["name"].strip()
            dropping = False
            if current in sections and current not in written:
                if not _eol(line):
                    line += newline
                out.append(line)
                out.extend(f"{k} = {v}{newline}" for k, v in sections[current].items())
                written.add(current)
                continue
            out.append(line)
            continue
        if current in sections:
            if dropping and body[:1] in (" ", "\t") and body.strip():
                continue
            dropping = False
            key = _KEY.match(body)
            if key is not None and key["key"].strip().lower() in owned:
                dropping = True
                continue
        out.append(line)
    result = "".join(out)
    missing = [name for name in sections if name not in written]
    if missing:
        if result and not result.endswith(("\n", "\r")):
            result += newline
        for name in missing:
            if result.strip():
                result += newline
            result += f"[{name}]{newline}"
            result += "".join(f"{k} = {v}{newline}" for k, v in sections[name].items())
    return result


def write_credentials_file(path: Path, sections: Mapping[str, Mapping[str, str]]) -> Path:
    """Put ``sections`` into the credentials file at ``path``; return the file written.

    The caller serialises concurrent writers (okenv takes its cache lock around this).
    """
    for name in sections:
        profile_name(name)
    return _edit(path, lambda text: set_sections(text, sections), "AWS credentials file")


def write_config_profiles(
    path: Path, profiles: Mapping[str, Mapping[str, str]]
) -> tuple[Path, list[str]]:
    """Add ``[profile NAME]`` sections to the AWS config file at ``path`` for the profiles
    it does not have yet (an existing one is left alone); return the file and the names
    added. Every other byte stays, as in the credentials file."""
    added: list[str] = []

    def edit(text: str) -> str:
        present = section_names(text)
        missing = {
            f"profile {name}": values
            for name, values in profiles.items()
            if f"profile {name}" not in present and not (name == "default" and name in present)
        }
        added.extend(key.removeprefix("profile ") for key in missing)
        return set_sections(text, missing, owned=()) if missing else text

    for name in profiles:
        profile_name(name)
    return _edit(path, edit, "AWS config file"), added


def _edit(path: Path, edit: Callable[[str], str], what: str) -> Path:
    """Read the file at ``path`` (safely), ``edit`` its text, write it back atomically."""
    target = _safe_target(path)
    try:
        make_private_dirs(target.parent)
        try:
            if target.stat().st_size > _MAX_SIZE:
                raise ConfigError(f"{target} is too large to be an {what}")
            raw = target.read_bytes()
        except FileNotFoundError:
            raw = b""
        text = raw.decode("utf-8", "surrogateescape")
        updated = edit(text).encode("utf-8", "surrogateescape")
        if updated != raw:
            write_private(target, updated)
    except OSError as exc:
        raise ConfigError(f"cannot write the {what} {target}: {exc.strerror or exc}") from None
    return target


def check_credentials_file(path: Path) -> Path:
    """The file a write to ``path`` would change, refusing unsafe symlinks (a check a login
    makes first, so a refused file costs no sign-in)."""
    return _safe_target(path)


def _owner_ok(st: os.stat_result) -> bool:
    return st.st_uid in (os.getuid(), 0)


def _safe_target(path: Path) -> Path:
    """The file to write for ``path``: ``path`` itself, or the end of its symlinks when every
    link and the target belong to this user or root and the target is a regular file."""
    current = Path(os.path.abspath(path))
    for _ in range(_MAX_LINKS):
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return current  # a new file (or the missing target of one's own link)
        except OSError as exc:
            raise ConfigError(
                f"cannot read the AWS credentials file {path}: {exc.strerror}"
            ) from None
        if not stat.S_ISLNK(st.st_mode):
            if not stat.S_ISREG(st.st_mode):
                raise ConfigError(f"the AWS credentials file {current} is not a regular file")
            if current != Path(os.path.abspath(path)) and not _owner_ok(st):
                raise ConfigError(
                    f"refusing to write the AWS credentials file: {path} links to {current}, "
                    f"which belongs to another user (uid {st.st_uid})",
                    hint=_LINK_HINT,
                )
            return current
        if not _owner_ok(st):
            raise ConfigError(
                f"refusing to follow the symlink {current}: it belongs to another user "
                f"(uid {st.st_uid})",
                hint=_LINK_HINT,
            )
        current = Path(os.path.abspath(current.parent / os.readlink(current)))
    raise ConfigError(f"too many symlinks at the AWS credentials file {path}")
