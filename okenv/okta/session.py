"""Okta sessions kept between runs, and which engine an org runs.

After a login okenv keeps Okta's session cookie (``sid`` on Classic, ``idx`` on Identity
Engine) with its expiry, one private file per org and user in ``<cache dir>/okta/`` (0700
directory, 0600 files, atomic writes: an :class:`okenv.store.PrivateStore`). The next login
for any profile of that org sends the cookie first and needs the password and MFA only when
Okta no longer accepts it. ``okenv logout`` ends the session at
Okta (``DELETE /api/v1/sessions/me``) and forgets it.

The engine answer of ``/.well-known/okta-organization`` is kept per org for a day.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from okenv import report
from okenv.digest import sha256_hex
from okenv.errors import AuthenticationError, OkenvError, OktaError
from okenv.okta.http import OktaHttp
from okenv.store import PrivateStore

VERSION = 1
SESSION_PREFIX = "session-"
ENGINE_PREFIX = "engine-"
# An org's engine changes only when Okta migrates it (Classic → Identity Engine): trust a
# detection for 30 days, and probe again at once when a flow on the remembered engine is
# refused (okenv.okta.signin), so the probe's round trip is paid once a month, not daily.
ENGINE_TTL = 30 * 86400.0
EXPIRY_MARGIN = 60.0  # seconds: a session about to expire is not worth trying
ASSUMED_LIFETIME = 12 * 3600.0  # seconds after its last use, for a cookie without an expiry


@dataclass(frozen=True)
class SavedSession:
    org: str
    username: str
    cookie: str
    """``sid`` or ``idx``."""
    value: str
    expires_at: float

    def usable(self, now: float) -> bool:
        return self.expires_at - EXPIRY_MARGIN > now


def _digest(*parts: str) -> str:
    return sha256_hex("\0".join(parts).encode())[:16]


class SessionStore:
    """Okta session cookies and engine answers: documents in a :class:`PrivateStore` (or a
    directory, made one)."""

    def __init__(self, files: PrivateStore | Path) -> None:
        self._files = files if isinstance(files, PrivateStore) else PrivateStore(files)

    @staticmethod
    def _session_key(org: str, username: str) -> str:
        return SESSION_PREFIX + _digest(org.rstrip("/").lower(), username.lower())

    # -- sessions ---------------------------------------------------------------------------

    def load(self, org: str, username: str, now: float | None = None) -> SavedSession | None:
        """The saved session of ``username`` at ``org`` while it lasts, else None."""
        key = self._session_key(org, username)
        saved = self._parse(self._files.read(key))
        if saved is None:
            return None
        if saved.org.rstrip("/").lower() != org.rstrip("/").lower() or (
            saved.username.lower() != username.lower()
        ):
            return None
        if not saved.usable(time.time() if now is None else now):
            self._files.remove(key)
            return None
        return saved

    def save(self, session: SavedSession) -> None:
        self._files.write(
            self._session_key(session.org, session.username),
            {
                "version": VERSION,
                "org": session.org,
                "username": session.username,
                "cookie": session.cookie,
                "value": session.value,
                "expires_at": session.expires_at,
            },
        )

    def forget(self, org: str, username: str) -> bool:
        return self._files.remove(self._session_key(org, username))

    def sessions(self) -> list[SavedSession]:
        """Every readable saved session, expired ones included."""
        found = []
        for key in self._files.names(SESSION_PREFIX):
            saved = self._parse(self._files.read(key))
            if saved is not None:
                found.append(saved)
        return found

    @staticmethod
    def _parse(document: dict[str, Any] | None) -> SavedSession | None:
        if document is None or document.get("version") != VERSION:
            return None
        try:
            saved = SavedSession(
                org=str(document["org"]),
                username=str(document["username"]),
                cookie=str(document["cookie"]),
                value=str(document["value"]),
                expires_at=float(document["expires_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return saved if saved.cookie in ("sid", "idx") and saved.value else None

    @contextmanager
    def lock(self, org: str, username: str, timeout: float = 600.0) -> Iterator[None]:
        """One sign-in per org and user at a time: a second okenv waits, then reuses the
        session the first one saved instead of asking for MFA again."""
        with self._files.lock(self._session_key(org, username), timeout=timeout):
            yield

    # -- engine -----------------------------------------------------------------------------

    def engine(self, org: str, now: float | None = None) -> str | None:
        document = self._files.read(ENGINE_PREFIX + _digest(org.rstrip("/").lower()))
        if document is None or document.get("version") != VERSION:
            return None
        engine = document.get("engine")
        checked = document.get("checked_at")
        if engine not in ("classic", "idx") or not isinstance(checked, int | float):
            return None
        if (time.time() if now is None else now) - checked > ENGINE_TTL:
            return None
        return str(engine)

    def forget_engine(self, org: str) -> None:
        self._files.remove(ENGINE_PREFIX + _digest(org.rstrip("/").lower()))

    def save_engine(self, org: str, engine: str) -> None:
        self._files.write(
            ENGINE_PREFIX + _digest(org.rstrip("/").lower()),
            {"version": VERSION, "org": org, "engine": engine, "checked_at": time.time()},
        )


# -- at Okta -------------------------------------------------------------------------------


def detect_engine(http: OktaHttp) -> str | None:
    """``idx`` or ``classic`` from ``/.well-known/okta-organization``; None if unknown."""
    try:
        data = http.get_json("/.well-known/okta-organization")
    except (OktaError, AuthenticationError):  # a network error is reported as such
        return None
    pipeline = data.get("pipeline")
    return {"idx": "idx", "v1": "classic"}.get(pipeline) if isinstance(pipeline, str) else None


def describe_session(http: OktaHttp, username: str) -> SavedSession | None:
    """The Okta session the jar holds now (no request): its cookie, and as expiry the
    cookie's own or, for a browser-session cookie (Okta's usual), :data:`ASSUMED_LIFETIME`
    from now. Okta has the last word: a session it no longer accepts costs one request."""
    cookie = http.session_cookie()
    if cookie is None:
        return None
    name, value = cookie
    expires = next(
        (c.expires for c in http.session.cookies if c.name == name and c.value == value), None
    )
    now = time.time()
    expires_at = float(expires) if expires else now + ASSUMED_LIFETIME
    if expires_at <= now:
        return None
    return SavedSession(http.org_url, username, name, value, expires_at)


def end_session(http: OktaHttp, saved: SavedSession) -> bool:
    """``DELETE /api/v1/sessions/me`` with the saved cookie; True if Okta ended a session
    (False: it had already ended). Network and service errors propagate."""
    http.set_cookie(saved.cookie, saved.value)
    return http.delete("/api/v1/sessions/me") < 300


def default_store(environ: Mapping[str, str] | None = None) -> SessionStore:
    """The store in okenv's cache dir (``<cache dir>/okta``)."""
    from okenv.paths import cache_dir

    root = cache_dir(environ)
    return SessionStore(PrivateStore(root / "okta", inside=root))


def logout(
    store: SessionStore,
    *,
    org: str | None = None,
    username: str | None = None,
    timeout: float = 10.0,
) -> int:
    """End the saved Okta sessions (all, or those of ``org`` / ``username``) at Okta, then
    forget them. Returns how many were forgotten; an Okta that cannot be reached is warned
    about and the session forgotten anyway."""
    forgotten = 0
    for saved in store.sessions():
        if org is not None and saved.org.rstrip("/").lower() != org.rstrip("/").lower():
            continue
        if username is not None and saved.username.lower() != username.lower():
            continue
        if saved.usable(time.time()):
            try:
                end_session(OktaHttp(saved.org, timeout=timeout), saved)
            except OkenvError as exc:
                report.warn(f"could not end the Okta session at {saved.org}: {exc.message}")
        if store.forget(saved.org, saved.username):
            forgotten += 1
    return forgotten
