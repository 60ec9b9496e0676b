"""Exchange a SAML assertion for AWS credentials with STS AssumeRoleWithSAML.

The only module that imports boto3/botocore; import it lazily (only the login path needs
it, and botocore is slow to import). The call is unsigned, so the client never looks
for credentials (no IMDS probe, no credential_process), and it is built on a botocore
session that ignores AWS_PROFILE / AWS_DEFAULT_PROFILE, so a profile that does not exist
cannot break it. The endpoint is botocore's own resolution: AWS_ENDPOINT_URL_STS and
AWS_ENDPOINT_URL redirect it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import botocore
import botocore.config
import botocore.exceptions
import botocore.session

from okenv.credentials import Credentials
from okenv.errors import (
    AuthorizationError,
    DurationTooLongError,
    NetworkError,
    StsError,
)
from okenv.saml import Role, SamlAssertion, default_region

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

__all__ = ["assume_role_with_saml", "sts_client"]

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 15
MAX_ATTEMPTS = 2
MAX_SESSION_DURATION_MESSAGE = "exceeds the MaxSessionDuration"
NETWORK_HINT = "check your network connection, proxy settings and AWS_ENDPOINT_URL_STS"

_NETWORK_ERRORS: tuple[type[Exception], ...] = (
    botocore.exceptions.EndpointConnectionError,  # includes ConnectionRefused-like errors
    botocore.exceptions.ConnectionError,  # ConnectTimeout, ProxyConnection, SSL, ...
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)


def _session() -> botocore.session.Session:
    # Resolve the profile from nowhere: neither AWS_PROFILE nor AWS_DEFAULT_PROFILE is read,
    # so the config file's [default] section (or nothing) applies and ProfileNotFound cannot
    # happen. Everything else (endpoint URLs, CA bundle, proxies) resolves as usual.
    return botocore.session.Session(session_vars={"profile": (None, None, None, None)})


def sts_client(region: str) -> STSClient:
    """An unsigned STS client for ``region`` with short timeouts and one retry."""
    config = botocore.config.Config(
        signature_version=botocore.UNSIGNED,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )
    try:
        client: STSClient = _session().create_client(  # type: ignore[assignment]
            "sts", region_name=region, config=config
        )
    except botocore.exceptions.BotoCoreError as exc:
        raise StsError(
            f"could not set up the AWS STS client: {exc}",
            hint="check AWS_CONFIG_FILE and the AWS_* environment variables",
        ) from None
    return client


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _client_error(
    exc: botocore.exceptions.ClientError, role: Role
) -> StsError | AuthorizationError:
    response: Any = exc.response
    error = response.get("Error", {}) or {}
    code = str(error.get("Code") or "").strip()
    message = " ".join(str(error.get("Message") or "").split())
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")

    if code == "AccessDenied":
        return AuthorizationError(
            f"STS denied {role.arn}: {message or 'access denied'}",
            hint=(
                f"check that the role's trust policy allows sts:AssumeRoleWithSAML from "
                f"{role.principal_arn}, and that this SAML provider exists in the account"
            ),
        )
    if code == "ValidationError" and MAX_SESSION_DURATION_MESSAGE in message:
        return DurationTooLongError(
            f"STS refused the session duration for {role.arn}: {message}",
            hint="ask for a shorter --duration (the role's MaxSessionDuration is lower)",
        )
    if isinstance(status, int) and status >= 500 and not _looks_like_aws_code(code):
        return StsError(
            f"AWS STS answered unexpectedly (HTTP {status})",
            hint="AWS may be having trouble; try again later, or check AWS_ENDPOINT_URL_STS",
        )
    if not code:
        code = f"HTTP {status}" if status else "unknown error"
    return StsError(f"STS refused {role.arn}: {code}: {message or '(no message)'}")


def _looks_like_aws_code(code: str) -> bool:
    """AWS error codes are CamelCase words; botocore invents the HTTP status for junk bodies."""
    return bool(code) and code[0].isalpha() and code.replace(".", "").isalnum()


def assume_role_with_saml(
    *, role: Role, assertion: SamlAssertion, duration: int, region: str | None
) -> Credentials:
    """Call AssumeRoleWithSAML for ``role``; errors become okenv errors, never tracebacks."""
    endpoint_region = region or default_region(assertion.partition)
    client = sts_client(endpoint_region)
    try:
        response = client.assume_role_with_saml(
            RoleArn=role.arn,
            PrincipalArn=role.principal_arn,
            SAMLAssertion=assertion.encoded,
            DurationSeconds=duration,
        )
    except botocore.exceptions.ClientError as exc:
        raise _client_error(exc, role) from None
    except _NETWORK_ERRORS as exc:
        raise NetworkError(f"could not reach AWS STS: {exc}", hint=NETWORK_HINT) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise StsError(f"AWS STS call failed: {exc}") from None
    finally:
        client.close()

    try:
        creds = response["Credentials"]
        return Credentials(
            access_key_id=creds["AccessKeyId"],
            secret_access_key=creds["SecretAccessKey"],
            session_token=creds["SessionToken"],
            expiration=_utc(creds["Expiration"]),
            role_arn=role.arn,
            region=region,
        )
    except (KeyError, TypeError, AttributeError):
        raise StsError("AWS STS answered without credentials") from None
