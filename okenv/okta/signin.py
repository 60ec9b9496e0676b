"""From a profile to the AWS app's SAML form: session reuse, engine choice, Classic or IDX.

1. A saved Okta session for this org and user (:mod:`okenv.okta.session`) is tried first:
   the app link with the session cookie answers with the SAML form when it is still good.
2. Otherwise the engine (``engine`` setting; ``auto`` = ``/.well-known/okta-organization``,
   remembered per org, raced with the primary auth when the password is at hand:
   :mod:`okenv.okta.engine`) decides: Classic ``/api/v1/authn`` (sessionToken → app link,
   or the app's own step-up stateToken), or Identity Engine remediations from the app's
   sign-in page.
3. The session the sign-in left in the cookie jar is saved for the next login.

``engine = "device"`` (:mod:`okenv.okta.device`) signs in through a browser approval
instead; ``auto`` with an ``oidc_client_id`` turns to it when the password engines meet a
step only a browser can answer (:class:`okenv.errors.BrowserRequired`), and says so.

The password is asked for only when a step needs it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from okenv import report
from okenv.config import Profile
from okenv.errors import BrowserRequired, OktaError
from okenv.okta import classic, device, engine, idx
from okenv.okta.http import RATE_LIMIT_MAX_WAIT, OktaHttp
from okenv.okta.mfa import POLL_INTERVAL, PUSH_TIMEOUT, MfaContext, Waits
from okenv.okta.pages import SamlForm, has_saml_form, parse_app_page, state_token
from okenv.okta.session import SessionStore, default_store, describe_session
from okenv.prompt import Prompter


def _seconds(text: str | None, default: float) -> float:
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    if value != value:  # NaN: no wait can be compared with it
        return default
    return min(max(value, 0.01), 3600.0)


@dataclass
class OktaOptions:
    """Timing and storage for an Okta sign-in (tests shorten the waits)."""

    waits: Waits = field(default_factory=Waits)
    rate_limit_max_wait: float = RATE_LIMIT_MAX_WAIT
    store: SessionStore | None = None
    """Where Okta sessions and engine answers are kept; None = no reuse."""
    grants: device.GrantStore | None = None
    """Where device approvals are kept (engine = "device"); None = no reuse."""
    open_url: device.OpenUrl | None = None
    """How ``--open`` starts this machine's browser (default: :func:`okenv.browser.open_url`)."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> OktaOptions:
        """The defaults, the store in okenv's cache dir, and the settings
        ``OKENV_POLL_INTERVAL`` / ``OKENV_PUSH_TIMEOUT`` (seconds, README "Variables")."""
        env = os.environ if environ is None else environ
        return cls(
            waits=Waits(
                poll_interval=_seconds(env.get("OKENV_POLL_INTERVAL"), POLL_INTERVAL),
                push_timeout=_seconds(env.get("OKENV_PUSH_TIMEOUT"), PUSH_TIMEOUT),
            ),
            store=default_store(env),
            grants=device.default_store(env),
        )


class _Once:
    """The password, asked for at most once and only when needed."""

    def __init__(self, get: Callable[[], str]) -> None:
        self._get = get
        self._value: str | None = None

    def __call__(self) -> str:
        if self._value is None:
            self._value = self._get()
        return self._value


def _http(profile: Profile, prompter: Prompter, options: OktaOptions) -> OktaHttp:
    return OktaHttp(
        profile.org_url,
        timeout=profile.timeout,
        notify=prompter.info,
        sleep=options.waits.sleep,
        rate_limit_max_wait=options.rate_limit_max_wait,
    )


def device_sign_in(
    profile: Profile,
    *,
    username: str | None,
    prompter: Prompter,
    options: OktaOptions,
    http: OktaHttp | None = None,
) -> SamlForm:
    """The SAML form through a browser approval (:func:`okenv.okta.device.sign_in`)."""
    if profile.oidc_client_id is None:
        raise OktaError("device sign-in needs oidc_client_id")  # config checks it first
    open_url = None
    if profile.open_browser:
        from okenv.browser import open_url as browser_open

        open_url = options.open_url or browser_open
    page = device.sign_in(
        http or _http(profile, prompter, options),
        client_id=profile.oidc_client_id,
        app_url=profile.app_url,
        username=username,
        prompter=prompter,
        store=options.grants,
        open_url=open_url,
        sleep=options.waits.sleep,
        clock=options.waits.clock,
    )
    return parse_app_page(page)


def sign_in(
    profile: Profile,
    *,
    username: str,
    password: Callable[[], str],
    totp_secret: str | None,
    prompter: Prompter,
    options: OktaOptions,
    security_answer: str | None = None,
    password_at_hand: bool = False,
) -> SamlForm:
    """Sign in to the profile's Okta org and return the AWS app's SAML form.
    ``password_at_hand``: ``password()`` answers without a prompt (the environment, the
    keyring), so it may go out before the engine is known (:func:`okenv.okta.engine.race`)."""
    if profile.engine == "device":
        return device_sign_in(profile, username=username, prompter=prompter, options=options)
    http = _http(profile, prompter, options)
    ctx = MfaContext(
        prompter,
        profile.factor,
        totp_secret,
        security_answer,
        options.waits,
        keep_signed_in=profile.okta_keep_signed_in,
    )
    secret = _Once(password)
    store = options.store
    org = http.org_url
    lock: AbstractContextManager[None] = (
        store.lock(org, username) if store is not None else nullcontext()
    )
    with lock:
        page: Any = None
        saved = store.load(org, username) if store is not None else None
        if saved is not None and store is not None:
            report.trace(f"trying the saved Okta session ({saved.cookie} cookie)")
            http.set_cookie(saved.cookie, saved.value)
            page = http.open_page(profile.app_url)
            if has_saml_form(page):
                form = parse_app_page(page)
                _remember(http, store, username)
                return form
            report.trace("the saved Okta session was not enough; signing in")
            store.forget(org, username)
        try:
            page = _with_engine(
                http, profile, store, page, username, secret, ctx, at_hand=password_at_hand
            )
        except BrowserRequired as exc:
            return _through_a_browser(exc, profile, username, prompter, options)
        form = parse_app_page(page)
        if store is not None:
            _remember(http, store, username)
        return form


def _through_a_browser(
    exc: BrowserRequired,
    profile: Profile,
    username: str,
    prompter: Prompter,
    options: OktaOptions,
) -> SamlForm:
    """``auto`` with an ``oidc_client_id``: the device flow where a password engine met a
    step only a browser can answer (said on the terminal); else the error stands."""
    if profile.engine != "auto" or profile.oidc_client_id is None:
        raise exc
    prompter.info(
        f"{exc.message}; signing in through a browser instead "
        "(device authorization with oidc_client_id)"
    )
    return device_sign_in(profile, username=username, prompter=prompter, options=options)


def _with_engine(
    http: OktaHttp,
    profile: Profile,
    store: SessionStore | None,
    page: Any,
    username: str,
    secret: Callable[[], str],
    ctx: MfaContext,
    *,
    at_hand: bool,
) -> Any:
    """Sign in on the org's engine: the setting, the remembered one, or the probe's (raced
    with Classic's primary auth when the password is at hand)."""
    org = http.org_url
    remembered = store.engine(org) if store is not None and profile.engine == "auto" else None
    chosen = profile.engine if profile.engine in ("classic", "idx") else remembered
    started: dict[str, Any] | None = None
    if chosen is None and at_hand and state_token(page) is None:
        chosen, started = engine.race(http, store, username, secret())
    chosen = chosen or engine.probe(http, store)
    try:
        return _flow(chosen, http, profile, page, username, secret, ctx, started)
    except OktaError:
        # A refused flow on a remembered engine: the org may have moved (Classic →
        # Identity Engine). Probe again; on a different answer, sign in that way once.
        if remembered is None or store is None:
            raise
        store.forget_engine(org)
        detected = engine.probe(http, store)
        if detected == remembered:
            raise
        report.trace(f"the remembered engine ({remembered}) was refused; Okta runs {detected}")
        return _flow(detected, http, profile, None, username, secret, ctx)


def _flow(
    name: str,
    http: OktaHttp,
    profile: Profile,
    page: Any,
    username: str,
    secret: Callable[[], str],
    ctx: MfaContext,
    started: dict[str, Any] | None = None,
) -> Any:
    """Sign in with ``name`` and return the page behind it (the app's SAML form);
    ``started``: Classic's primary auth, already answered."""
    if name == "idx":
        if state_token(page) is None:
            page = http.open_page(profile.app_url)
        return idx.sign_in(http, page, username=username, password=secret, ctx=ctx)
    return _classic(http, profile, page, username, secret, ctx, started)


def _classic(
    http: OktaHttp,
    profile: Profile,
    page: Any,
    username: str,
    secret: Callable[[], str],
    ctx: MfaContext,
    started: dict[str, Any] | None = None,
) -> Any:
    def credentials() -> tuple[str, str]:
        return username, secret()

    token = state_token(page)
    if token is not None:
        # The app's sign-in page (a saved session that is gone, or app-level MFA).
        tx = classic.drive(http, classic.start(http, stateToken=token), ctx, credentials)
        return _to_app(http, profile, tx)
    first = started or classic.start(http, username=username, password=secret())
    tx = classic.drive(http, first, ctx, credentials)
    page = _to_app(http, profile, tx)
    token = None if has_saml_form(page) else state_token(page)
    if token is not None:
        # App-level MFA: the app wants more than the org's sign-on policy asked for.
        step_up = classic.start(http, stateToken=token)
        if step_up.get("status") not in ("MFA_REQUIRED", "SUCCESS"):
            return page  # the session was not accepted: parse_app_page says so
        tx = classic.drive(http, step_up, ctx, credentials)
        page = _to_app(http, profile, tx)
    return page


def _to_app(http: OktaHttp, profile: Profile, tx: dict[str, Any]) -> Any:
    original = classic.original_link(tx)
    if original is not None:
        return http.open_page(original)
    token = tx.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise OktaError("Okta reported SUCCESS without a sessionToken")
    return http.open_page(profile.app_url, params={"sessionToken": token})


def _remember(http: OktaHttp, store: SessionStore, username: str) -> None:
    saved = describe_session(http, username)
    if saved is None:
        report.trace("no Okta session to keep")
        return
    store.save(saved)
    report.trace(
        f"kept the Okta session ({saved.cookie} cookie) until {time.ctime(saved.expires_at)}"
    )
