"""From an assertion and a chosen role to credentials: durations, partitions, role chaining.

- Duration: the profile's (or ``--duration``), capped by the assertion's SessionDuration and
  by what the role accepted before. When STS refuses it for the role's MaxSessionDuration,
  okenv steps down through 12h, 8h, 4h, 2h, 1h, 15m, says on stderr what it got, and
  remembers the accepted maximum for the role.
- Partition and region: the STS endpoint region is the profile's region, else the
  partition's default (us-gov-west-1, cn-north-1, eusc-de-east-1, us-east-1). Credentials
  carry the profile's region, or the partition default outside the ``aws`` partition (an
  SDK left to its own default would call the wrong partition).
- Role chaining: ``assume_role`` is a second hop with ``sts:AssumeRole`` signed by the
  first hop's credentials; AWS caps chained sessions at 1 hour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from okenv import report
from okenv.config import CHAINED_MAX, MAX_DURATION, Profile
from okenv.credentials import Credentials
from okenv.errors import ConfigError, DurationTooLongError
from okenv.memory import AwsMemory
from okenv.partitions import PARTITION_PATTERN, default_region, partition_of_region
from okenv.rolepage import account_label
from okenv.saml import Role, SamlAssertion

__all__ = [
    "CHAINED_MAX",
    "STANDARD_DURATIONS",
    "assume",
    "check_profile",
    "format_duration",
    "menu",
    "regions",
    "role_label",
]


STANDARD_DURATIONS = (43200, 28800, 14400, 7200, 3600, 900)
_CHAIN_ROLE = re.compile(rf"arn:({PARTITION_PATTERN}):iam::[0-9]{{12}}:role/[A-Za-z0-9_+=,.@/-]+")
_SESSION_NAME_BAD = re.compile(r"[^A-Za-z0-9_+=,.@-]")


def format_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours}h{minutes:02d}m"
    return f"{hours}h" if hours else f"{minutes}m"


def role_label(role: Role, aliases: Mapping[str, str]) -> str:
    """``prod-main/Admin``: what ``role = ...`` accepts, readable."""
    return f"{aliases.get(role.account_id) or role.account_id}/{role.path}"


def menu(roles: Sequence[Role], aliases: Mapping[str, str]) -> tuple[list[Role], list[str]]:
    """Roles grouped by account (accounts by label, roles by path) and their menu labels.

    The account label (``prod-main (123456789012)``) stands on the first role of each group;
    the other roles of the account are aligned under it.
    """
    groups: dict[str, list[Role]] = {}
    for role in roles:
        groups.setdefault(role.account_id, []).append(role)
    heads = {account: account_label(account, aliases.get(account)) for account in groups}
    width = max(len(head) for head in heads.values())
    ordered: list[Role] = []
    labels: list[str] = []
    for account in sorted(groups, key=lambda a: (heads[a].casefold(), a)):
        for index, role in enumerate(sorted(groups[account], key=lambda r: r.path.casefold())):
            head = heads[account] if index == 0 else ""
            ordered.append(role)
            labels.append(f"{head:<{width}}  {role.path}")
    return ordered, labels


def regions(profile: Profile, partition: str) -> tuple[str | None, str]:
    """(region the credentials carry, region of the STS endpoint) for ``partition``."""
    if profile.region:
        found = partition_of_region(profile.region)
        if found is not None and found != partition:
            raise ConfigError(
                f"region {profile.region} is in the {found} partition, but the role is in "
                f"{partition}",
                hint=f"set region to a {partition} region (e.g. {default_region(partition)}) "
                "or remove it",
            )
        return profile.region, profile.region
    fallback = default_region(partition)
    return (None if partition == "aws" else fallback), fallback


# call("okenv.sts:function", **kwargs): by name, so botocore is imported only where the
# call runs (okenv.worker's child while Okta answers; here when there is no worker).
StsCall = Callable[..., Credentials]


def _with_step_down(
    role: Role,
    assertion: SamlAssertion,
    *,
    requested: int,
    region: str | None,
    endpoint_region: str,
    memory: AwsMemory | None,
    call: StsCall,
    timeout: float | None = None,
) -> Credentials:
    remembered = memory.max_duration(role.arn) if memory is not None else None
    ask = min(requested, remembered) if remembered else requested
    if remembered and ask < requested:
        report.notify(
            f"{role.name} accepts sessions of at most {format_duration(ask)} (learned earlier); "
            f"asking for {format_duration(ask)} instead of {format_duration(requested)}"
        )
    stepped = False
    while True:
        report.trace(f"AssumeRoleWithSAML {role.arn} for {ask} s")
        try:
            creds = call(
                "okenv.sts:assume_role_with_saml",
                role=role,
                assertion=assertion,
                duration=ask,
                region=endpoint_region,
                timeout=timeout,
            )
        except DurationTooLongError:
            lower = next((d for d in STANDARD_DURATIONS if d < ask), None)
            if lower is None:
                raise
            report.trace(f"{ask} s is over the role's MaxSessionDuration; trying {lower} s")
            ask, stepped = lower, True
            continue
        break
    if stepped:
        if memory is not None:
            memory.remember_max_duration(role.arn, ask)
        report.notify(
            f"{role.name} does not allow {format_duration(requested)} sessions; "
            f"got {format_duration(ask)} (okenv will ask for that next time)"
        )
    return Credentials(
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        session_token=creds.session_token,
        expiration=creds.expiration,
        role_arn=creds.role_arn,
        region=region,
    )


def _session_name(profile: Profile, assertion: SamlAssertion) -> str:
    if profile.assume_role_session_name:
        check_profile(profile)
        return profile.assume_role_session_name
    name = _SESSION_NAME_BAD.sub("-", assertion.session_name or "")[:64]
    return name if len(name) >= 2 else "okenv"


def check_profile(profile: Profile) -> None:
    """What can be checked before a login: the chained role's ARN and session name."""
    if profile.assume_role and not _CHAIN_ROLE.fullmatch(profile.assume_role.strip()):
        raise ConfigError(
            f"assume_role is not an IAM role ARN: {profile.assume_role!r}",
            hint="use arn:aws:iam::123456789012:role/Name",
        )
    name = profile.assume_role_session_name
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_+=,.@-]{2,64}", name):
        raise ConfigError(
            f"assume_role_session_name {name!r} is not a valid role session name",
            hint="use 2-64 characters of letters, digits and _+=,.@-",
        )


def _chain_target(profile: Profile, role: Role) -> str | None:
    """The profile's ``assume_role``, checked: an IAM role ARN in the SAML role's partition."""
    target = profile.assume_role
    if target is None:
        return None
    match = _CHAIN_ROLE.fullmatch(target.strip())
    if match is None:
        raise ConfigError(
            f"assume_role is not an IAM role ARN: {target!r}",
            hint="use arn:aws:iam::123456789012:role/Name",
        )
    if match.group(1) != role.partition:
        raise ConfigError(
            f"assume_role {target} is in {match.group(1)}, but the SAML role {role.arn} "
            f"is in {role.partition}; role chaining stays within one partition"
        )
    return target


def assume(
    role: Role,
    assertion: SamlAssertion,
    profile: Profile,
    *,
    memory: AwsMemory | None = None,
    chain: bool = True,
    call: StsCall | None = None,
) -> Credentials:
    """Credentials for ``role`` (and, when the profile says so, the chained role).
    ``call(func, **kwargs)`` runs each STS call (default: right here)."""
    if call is None:
        from okenv.worker import call_here

        call = call_here
    region, endpoint_region = regions(profile, role.partition)
    requested = min(profile.duration, assertion.session_duration or MAX_DURATION)
    if requested < profile.duration:
        report.trace(f"the assertion's SessionDuration limits the session to {requested} s")
    target = _chain_target(profile, role) if chain else None
    if target is not None:
        if requested > CHAINED_MAX:
            report.notify(
                f"role chaining: AWS limits chained sessions to 1h (asked for "
                f"{format_duration(requested)})"
            )
        requested = min(requested, CHAINED_MAX)
    first = _with_step_down(
        role,
        assertion,
        requested=requested,
        region=region,
        endpoint_region=endpoint_region,
        memory=memory,
        call=call,
        timeout=profile.timeout,
    )
    if target is None:
        return first
    session_name = _session_name(profile, assertion)
    report.trace(f"AssumeRole {target.strip()} as {session_name} for {requested} s (role chaining)")
    return call(
        "okenv.sts:assume_role",
        source=first,
        role_arn=target.strip(),
        session_name=session_name,
        duration=requested,
        region=region,
        endpoint_region=endpoint_region,
        external_id=profile.external_id,
        timeout=profile.timeout,
    )
