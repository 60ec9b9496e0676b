"""Which CA bundle verifies TLS. Verification is always on: nothing here can turn it off."""

from __future__ import annotations

import os
from collections.abc import Mapping


def ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle to verify TLS with, when requests would not find it by itself.

    requests reads ``REQUESTS_CA_BUNDLE`` (and ``CURL_CA_BUNDLE``) on its own; the OpenSSL
    convention ``SSL_CERT_FILE`` (or ``SSL_CERT_DIR``) is honoured here when neither is set.
    None means requests' default (certifi).
    """
    env = os.environ if environ is None else environ
    if env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE"):
        return None
    return env.get("SSL_CERT_FILE") or env.get("SSL_CERT_DIR") or None


def verify() -> str | bool:
    """The ``verify=`` argument for a requests call: a bundle path, or True."""
    return ca_bundle() or True
