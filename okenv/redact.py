"""Redaction for ``--debug`` output: secrets never reach a terminal or a log."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_NAMES = re.compile(
    r"token|password|passcode|passCode|secret|saml|sid|session|assertion|signature|credential|key"
    r"|answer|code",  # code: passCode, OAuth device_code and user_code
    re.IGNORECASE,
)
REDACTED = "<redacted>"


def redact_url(url: str) -> str:
    """Keep scheme, host and path; replace the values of secret-looking query parameters."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (name, REDACTED if SECRET_NAMES.search(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="<>")))
