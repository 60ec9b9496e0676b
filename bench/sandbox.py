"""The benchmark's sandbox: a throwaway CA, the fake Okta org over HTTPS on 127.0.0.1:443,
moto's STS server, and the environment every tool runs in.

Nothing can leave the machine: HTTP(S)_PROXY point at a dead loopback port (NO_PROXY lets
the loopback servers through), instance metadata is off, AWS config files are empty temp
files, STS is moto (AWS_ENDPOINT_URL_STS), and every tool gets its own temp HOME.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.http import Request, Response, json_response
from tests.fakes.okta import (
    DEFAULT_ROLES,
    DEFAULT_USERNAME,
    FakeOkta,
    _verify_sent_code_factor,
)

ROLE_ARN, PROVIDER_ARN = DEFAULT_ROLES[0]
OKTA_PORT = 443
DEAD_PROXY = "http://127.0.0.1:9"

# Variables of the calling environment that must not reach any tool.
_SCRUB_PREFIXES = ("AWS_", "OKENV_", "OKTA_", "GIMME_", "TOKENDITO_", "PYTHON", "REQUESTS_")
_SCRUB_NAMES = {
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "VIRTUAL_ENV",
}


def make_ca(work: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost (openssl).

    Returns (ca_cert, server_cert, server_key)."""
    tls = work / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = tls / "ca.key", tls / "ca.crt"
    key, csr, crt, ext = tls / "server.key", tls / "server.csr", tls / "server.crt", tls / "san.ext"
    if crt.exists() and ca_crt.exists() and _valid_for_a_day(crt):
        return ca_crt, crt, key

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_crt),
        "-subj",
        "/CN=okenv bench throwaway CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=127.0.0.1",
    )
    ext.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_crt),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-days",
        "30",
        "-sha256",
        "-extfile",
        str(ext),
        "-out",
        str(crt),
    )
    return ca_crt, crt, key


def _valid_for_a_day(crt: Path) -> bool:
    result = subprocess.run(
        ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(crt)], capture_output=True
    )
    return result.returncode == 0


def bench_okta(public_url: str | None = None, **options: Any) -> FakeOkta:
    """The project's fake org, set up for all three tools: one role (no menu for anyone),
    RoleSessionName + SessionDuration attributes (moto needs at least two), plus two things
    real Okta does that the peers rely on and okenv's tests never needed:

    * ``GET /.well-known/webfinger`` (tokendito asks where the user authenticates);
    * a TOTP verify without ``passCode`` answers as a challenge (tokendito "selects" the
      factor first, then sends the code), through the fake's own sent-code handler.
    """
    okta = _fake_okta_class(public_url)(
        **{"roles": [(ROLE_ARN, PROVIDER_ARN)], "session_duration": 3600, **options}
    )
    okta.factor_handlers["token:software:totp"] = _verify_sent_code_factor

    def webfinger(request: Request) -> Response:
        return json_response(
            {
                "subject": request.query.get("resource", f"okta:acct:{DEFAULT_USERNAME}"),
                "links": [
                    {
                        "rel": "okta:idp",
                        "href": okta.url + "/sso/idps/OKTA",
                        "titles": {"und": "Okta"},
                        "properties": {"okta:idp:type": "OKTA"},
                    }
                ],
            },
            headers={"Content-Type": "application/jrd+json"},
        )

    okta.add_route("GET", r"/\.well-known/webfinger", webfinger)
    return okta


def _fake_okta_class(public_url: str | None) -> type[FakeOkta]:
    """FakeOkta, or a subclass whose links name ``public_url`` (a proxy in front of it)."""
    if public_url is None:
        return FakeOkta

    class PublicOkta(FakeOkta):
        @property
        def url(self) -> str:
            return public_url

    return PublicOkta


def server_context(crt: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(crt), str(key))
    return context


@contextlib.contextmanager
def okta_over_https(ca_crt: Path, crt: Path, key: Path) -> Iterator[FakeOkta]:
    context = server_context(crt, key)
    okta = bench_okta()
    okta.host, okta.bind_port, okta.ssl_context = "127.0.0.1", OKTA_PORT, context
    try:
        okta.start()
    except OSError as exc:
        raise SystemExit(
            f"bench: cannot serve the fake Okta org on 127.0.0.1:{OKTA_PORT}: {exc}\n"
            "bench: gimme-aws-creds only talks to https on port 443; run as root or allow "
            "binding low ports (e.g. sysctl net.ipv4.ip_unprivileged_port_start=443)"
        ) from None
    try:
        # The CA must verify the org, or every tool would fail for the wrong reason.
        ctx = ssl.create_default_context(cafile=str(ca_crt))
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx)
        )
        with opener.open(okta.url + "/.well-known/okta-organization", timeout=5) as answer:
            answer.read()
        okta.reset_log()
        yield okta
    finally:
        okta.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    url: str


@contextlib.contextmanager
def moto_sts(work: Path) -> Iterator[MotoServer]:
    """moto's server in its own process (the bench venv), stopped on the way out."""
    port = free_port()
    log = (work / "moto.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    env.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "*",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"bench: moto's server exited (see {work / 'moto.log'})")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("bench: moto's server did not start within 60 s") from None
                time.sleep(0.1)
        yield MotoServer(process, url)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def base_env(ca_crt: Path, sts_url: str, home: Path) -> dict[str, str]:
    """What every tool runs with (each gets its own ``home``)."""
    aws = home / ".aws-bench"
    aws.mkdir(parents=True, exist_ok=True)
    for name in ("config", "credentials"):
        (aws / name).touch()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB_NAMES and not k.startswith("XDG_")
    }
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "REQUESTS_CA_BUNDLE": str(ca_crt),
            "AWS_ENDPOINT_URL_STS": sts_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "http_proxy": DEAD_PROXY,
            "https_proxy": DEAD_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            # keyring (gimme-aws-creds) must not look for a desktop keyring
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
    )
    # PYTHONDONTWRITEBYTECODE is scrubbed (PYTHON* above): every tool may use and write
    # its bytecode caches, as on a user's machine.
    return env
