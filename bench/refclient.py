"""A stdlib reference client at the round-trip floor (latency mode's yardstick).

Classic password + TOTP → sessionToken → the app link → AssumeRoleWithSAML, with nothing
else: one TLS connection to Okta kept alive for its three requests, and the STS connection
(TCP + TLS) opened in a thread while Okta answers. Six sequential round trips: TCP and TLS
1.3 to Okta (2), ``/api/v1/authn`` (1), factor verify (1), the app link (1), STS (1).

Run as ``python bench/refclient.py`` with the settings in the environment (``REF_*``);
prints credential_process JSON. Not a product: no retries, no error handling beyond a
clear exit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import json
import os
import re
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET


def totp(secret: str) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def main() -> int:
    env = os.environ
    context = ssl.create_default_context(cafile=env["REF_CA"])
    app = urllib.parse.urlsplit(env["REF_APP_URL"])
    sts = urllib.parse.urlsplit(env["REF_STS_URL"])

    sts_conn = http.client.HTTPSConnection(
        sts.hostname or "", sts.port or 443, context=context, timeout=30
    )
    opener = threading.Thread(target=sts_conn.connect)  # TCP + TLS while Okta answers
    opener.start()

    okta = http.client.HTTPSConnection(
        app.hostname or "", app.port or 443, context=context, timeout=30
    )
    headers = {"Accept": "application/json", "Content-Type": "application/json"}

    def post(path: str, body: dict[str, str]) -> dict[str, object]:
        okta.request("POST", path, json.dumps(body), headers)
        answer = okta.getresponse()
        data = json.loads(answer.read())
        assert isinstance(data, dict)
        return data

    state = post(
        "/api/v1/authn", {"username": env["REF_USERNAME"], "password": env["REF_PASSWORD"]}
    )
    factors = state["_embedded"]["factors"]  # type: ignore[index]
    factor = next(f for f in factors if f["factorType"] == "token:software:totp")
    verify = urllib.parse.urlsplit(factor["_links"]["verify"]["href"]).path
    done = post(verify, {"stateToken": str(state["stateToken"]), "passCode": totp(env["REF_TOTP"])})
    token = str(done["sessionToken"])

    okta.request(
        "GET",
        f"{app.path}?sessionToken={urllib.parse.quote(token)}",
        headers={"Accept": "text/html"},
    )
    page = okta.getresponse().read().decode()
    match = re.search(r'name="SAMLResponse"[^>]*value="([^"]+)"', page)
    if match is None:
        sys.exit("refclient: no SAMLResponse on the app page")
    assertion = html.unescape(match.group(1))

    opener.join()
    query = urllib.parse.urlencode(
        {
            "Action": "AssumeRoleWithSAML",
            "Version": "2011-06-15",
            "RoleArn": env["REF_ROLE"],
            "PrincipalArn": env["REF_PROVIDER"],
            "SAMLAssertion": assertion,
        }
    )
    sts_conn.request("POST", "/", query, {"Content-Type": "application/x-www-form-urlencoded"})
    root = ET.fromstring(sts_conn.getresponse().read())
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    creds = root.find(".//s:Credentials", ns)
    if creds is None:
        sys.exit("refclient: no Credentials in the STS answer")

    def text(name: str) -> str:
        return creds.findtext(f"s:{name}", default="", namespaces=ns)

    print(
        json.dumps(
            {
                "Version": 1,
                "AccessKeyId": text("AccessKeyId"),
                "SecretAccessKey": text("SecretAccessKey"),
                "SessionToken": text("SessionToken"),
                "Expiration": text("Expiration"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
