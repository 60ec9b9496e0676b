"""Every AWS partition fact okenv uses, in one place: pure data and matchers, no I/O.

A partition (``aws``, ``aws-us-gov``, ``aws-cn``) decides the sign-in host an assertion
may be posted to, the console, the STS region used when none is configured, and which
regions belong to it. botocore ships the region patterns too (``botocore/data/endpoints.json``),
but reading them means importing or locating botocore; these three partitions are the
only ones okenv signs in to, and a unit test checks this table against botocore's data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

__all__ = [
    "PARTITIONS",
    "Partition",
    "default_region",
    "partition_of_region",
    "partition_of_signin_host",
]


class Partition(NamedTuple):
    signin_host: str  # where the SAML assertion and the federation requests go
    console_url: str
    default_region: str  # STS endpoint when the profile names no region
    region_pattern: str  # what botocore's endpoints.json calls regionRegex


PARTITIONS: Mapping[str, Partition] = {
    "aws": Partition(
        "signin.aws.amazon.com",
        "https://console.aws.amazon.com/",
        "us-east-1",
        r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
    ),
    "aws-us-gov": Partition(
        "signin.amazonaws-us-gov.com",
        "https://console.amazonaws-us-gov.com/",
        "us-gov-west-1",
        r"^us\-gov\-\w+\-\d+$",
    ),
    "aws-cn": Partition(
        "signin.amazonaws.cn",
        "https://console.amazonaws.cn/",
        "cn-north-1",
        r"^cn\-\w+\-\d+$",
    ),
}

PARTITION_PATTERN = "aws|aws-us-gov|aws-cn"
# A regional sign-in host: one DNS label (a region, ASCII) before the partition's host.
_REGIONAL_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)


def default_region(partition: str) -> str:
    """The region whose STS endpoint okenv uses for a partition when none is configured."""
    try:
        return PARTITIONS[partition].default_region
    except KeyError:
        raise ValueError(f"unknown AWS partition: {partition!r}") from None


def partition_of_signin_host(host: str) -> str | None:
    """The partition of an AWS sign-in host: ``signin.aws.amazon.com`` or one regional
    variant (``eu-west-1.signin.aws.amazon.com``), compared exactly (ASCII, lower case,
    no trailing dot); None for any other host."""
    for name, partition in PARTITIONS.items():
        base = partition.signin_host
        if host == base:
            return name
        prefix, dot, rest = host.partition(".")
        if dot and rest == base and _REGIONAL_LABEL.fullmatch(prefix):
            return name
    return None


def partition_of_region(region: str) -> str | None:
    """``aws-us-gov`` for us-gov-*, ``aws-cn`` for cn-*, ``aws`` for the usual shapes.

    None for what okenv does not recognise (ISO partitions, typos): no judgement then.
    """
    region = region.strip().lower()
    for name in ("aws-us-gov", "aws-cn", "aws"):  # us-gov-* before the us-* of aws
        if re.fullmatch(PARTITIONS[name].region_pattern.strip("^$"), region, re.ASCII):
            return name
    return None
