"""Which environment variables okenv sets and unsets (pure: no I/O, no shell syntax).

The mapping is ordered; a value of ``None`` means "unset this variable". Turning it into
code for a particular shell is :func:`okenv.shells.render`'s job.
"""

from __future__ import annotations

from okenv.credentials import Credentials, rfc3339

EXPORTED: tuple[str, ...] = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "OKENV_PROFILE",
    "OKENV_ROLE_ARN",
    "OKENV_EXPIRES_AT",
)
"""Everything okenv may set (the region pair only when the profile has a region)."""

STALE: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
)
"""Always unset: stale values of these override or break the new credentials in botocore."""


def credentials_env(profile: str, creds: Credentials) -> dict[str, str | None]:
    """The changes that activate *creds* for *profile*: stale variables first, then values.

    ``AWS_REGION``/``AWS_DEFAULT_REGION`` appear only when ``creds.region`` is set; without
    a region they are left alone (not unset), so a region the user chose survives.
    """
    changes: dict[str, str | None] = dict.fromkeys(STALE)
    changes["AWS_ACCESS_KEY_ID"] = creds.access_key_id
    changes["AWS_SECRET_ACCESS_KEY"] = creds.secret_access_key
    changes["AWS_SESSION_TOKEN"] = creds.session_token
    changes["AWS_CREDENTIAL_EXPIRATION"] = rfc3339(creds.expiration)
    if creds.region:
        changes["AWS_REGION"] = creds.region
        changes["AWS_DEFAULT_REGION"] = creds.region
    changes["OKENV_PROFILE"] = profile
    changes["OKENV_ROLE_ARN"] = creds.role_arn
    changes["OKENV_EXPIRES_AT"] = str(creds.expires_at)
    return changes


def unset_env() -> dict[str, None]:
    """The changes that remove everything okenv sets, plus the stale variables."""
    return dict.fromkeys(EXPORTED + STALE)
