"""Okta's Classic Authentication API: primary auth, then MFA, to a one-time sessionToken.

Only plain arguments come in (an :class:`OktaHttp`, the username and password, the factor
preference, an optional TOTP seed and a prompter); the sessionToken comes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from okenv.errors import AuthenticationError, OktaError
from okenv.okta.http import OktaHttp
from okenv.prompt import Prompter

PASSCODE_TYPES = ("token:software:totp", "token:hardware", "token", "token:hotp")
PASSCODE_TRIES = 3

_LABELS = {
    ("token:software:totp", "GOOGLE"): "Google Authenticator",
    ("token:software:totp", "OKTA"): "Okta Verify (code)",
    ("token:hardware", "YUBICO"): "YubiKey",
    ("token", "RSA"): "RSA SecurID",
    ("token", "SYMANTEC"): "Symantec VIP",
}


@dataclass(frozen=True)
class Factor:
    id: str
    factor_type: str
    provider: str
    verify_url: str
    device: str | None

    @property
    def label(self) -> str:
        name = _LABELS.get((self.factor_type, self.provider))
        if name is None:
            name = f"{self.factor_type} ({self.provider.title()})"
        return f"{name} — {self.device}" if self.device else name

    @property
    def is_totp(self) -> bool:
        return self.factor_type == "token:software:totp"

    @property
    def supported(self) -> bool:
        return self.factor_type in PASSCODE_TYPES


def parse_factors(transaction: dict[str, Any]) -> list[Factor]:
    embedded = transaction.get("_embedded") or {}
    raw = embedded.get("factors") or embedded.get("factor") or []
    if isinstance(raw, dict):
        raw = [raw]
    factors = []
    for item in raw:
        try:
            profile = item.get("profile") or {}
            factors.append(
                Factor(
                    id=str(item["id"]),
                    factor_type=str(item["factorType"]),
                    provider=str(item.get("provider", "")),
                    verify_url=str(item["_links"]["verify"]["href"]),
                    device=profile.get("name") or profile.get("deviceType") or None,
                )
            )
        except (KeyError, TypeError, AttributeError):
            continue
    return factors


def choose_factor(
    factors: Sequence[Factor], preference: str, totp_secret: str | None, prompter: Prompter
) -> Factor:
    """The factor to use: the configured one, the only one, TOTP with a seed, or a menu."""
    usable = [f for f in factors if f.supported]
    if not usable:
        offered = ", ".join(f.label for f in factors) or "none"
        raise AuthenticationError(
            f"none of your Okta MFA factors can be used by okenv (enrolled: {offered})",
            hint="enroll a TOTP authenticator (e.g. Google Authenticator) in Okta",
        )
    if preference != "auto":
        wanted = [f for f in usable if _matches(f, preference)]
        if not wanted:
            raise AuthenticationError(
                f"no enrolled Okta factor matches factor = {preference!r}",
                hint="enrolled: " + ", ".join(f.label for f in factors),
            )
        usable = wanted
    if len(usable) == 1:
        return usable[0]
    if totp_secret:
        totp = [f for f in usable if f.is_totp]
        if totp:
            return totp[0]
    index = prompter.choose("Choose an MFA factor:", [f.label for f in usable])
    return usable[index]


def _matches(factor: Factor, preference: str) -> bool:
    if preference.endswith("-totp"):
        return factor.is_totp and factor.provider.lower() == preference[: -len("-totp")]
    if preference == "totp":
        return factor.is_totp or factor.factor_type == "token:hotp"
    if preference == "hardware":
        return factor.factor_type in ("token:hardware", "token")
    return factor.factor_type == preference


def totp_code(secret: str) -> str:
    """The current code for a base32 seed (Okta and Google issue 80-bit seeds: accept them)."""
    import pyotp

    class _TOTP(pyotp.TOTP):
        min_secret_length_bits = 0  # pyotp ≥ 2.10 refuses seeds shorter than 112 bits

    return str(_TOTP("".join(secret.split()).upper()).now())


def _passcode(factor: Factor, totp_secret: str | None, prompter: Prompter) -> str:
    if totp_secret and factor.is_totp:
        try:
            return totp_code(totp_secret)
        except Exception:  # binascii.Error and friends: not base32
            raise AuthenticationError(
                "OKENV_TOTP_SECRET is not a valid base32 TOTP seed",
                hint="use the seed shown when the authenticator was enrolled",
            ) from None
    return prompter.ask(f"MFA code ({factor.label}): ").strip()


def authenticate(
    http: OktaHttp,
    *,
    username: str,
    password: str,
    factor_preference: str,
    totp_secret: str | None,
    prompter: Prompter,
) -> str:
    """Primary auth and MFA through ``/api/v1/authn``; returns the sessionToken."""
    tx = http.post_json("/api/v1/authn", {"username": username, "password": password})
    for _ in range(10):  # each turn moves the transaction on; Okta never needs this many
        status = tx.get("status")
        if status == "SUCCESS":
            token = tx.get("sessionToken")
            if not isinstance(token, str) or not token:
                raise OktaError("Okta reported SUCCESS without a sessionToken")
            return token
        if status == "MFA_REQUIRED":
            tx = _verify_mfa(http, tx, factor_preference, totp_secret, prompter)
        elif status == "PASSWORD_WARN" and _link(tx, "skip"):
            prompter.info("okenv: your Okta password expires soon; change it in a browser")
            tx = http.post_json(_link(tx, "skip"), {"stateToken": tx.get("stateToken")})
        else:
            raise _status_error(http, str(status))
    raise OktaError("the Okta sign-in did not finish")


def _verify_mfa(
    http: OktaHttp,
    tx: dict[str, Any],
    preference: str,
    totp_secret: str | None,
    prompter: Prompter,
) -> dict[str, Any]:
    factor = choose_factor(parse_factors(tx), preference, totp_secret, prompter)
    state_token = tx.get("stateToken")
    tries = 1 if (totp_secret and factor.is_totp) or not prompter.interactive else PASSCODE_TRIES
    for attempt in range(1, tries + 1):
        code = _passcode(factor, totp_secret, prompter)
        try:
            return http.post_json(factor.verify_url, {"stateToken": state_token, "passCode": code})
        except AuthenticationError as exc:
            if exc.message != "the MFA code was not accepted" or attempt == tries:
                if totp_secret and factor.is_totp:
                    exc.hint = "check OKENV_TOTP_SECRET and this machine's clock"
                raise
            prompter.info(f"okenv: {exc.message}; try again ({tries - attempt} left)")
    raise AssertionError("unreachable")


def _link(tx: dict[str, Any], name: str) -> str:
    link = (tx.get("_links") or {}).get(name) or {}
    return str(link.get("href", "")) if isinstance(link, dict) else ""


def _status_error(http: OktaHttp, status: str) -> Exception:
    org = http.org_url
    if status == "LOCKED_OUT":
        return AuthenticationError(
            "the Okta account is locked out", hint=f"unlock it at {org} or ask your Okta admin"
        )
    if status == "PASSWORD_EXPIRED":
        return AuthenticationError(
            "your Okta password has expired", hint=f"change it in a browser at {org}"
        )
    if status in ("MFA_ENROLL", "MFA_ENROLL_ACTIVATE"):
        return AuthenticationError(
            "Okta wants you to enroll an MFA factor first",
            hint=f"enroll one in a browser at {org}, then run okenv again",
        )
    return OktaError(f"Okta answered with an unexpected sign-in status {status!r}")
