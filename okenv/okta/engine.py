"""Which engine an Okta org runs, at the fewest round trips: the setting, the answer
remembered for the org (:data:`okenv.okta.session.ENGINE_TTL`), or the probe
``/.well-known/okta-organization``.

When nothing is known yet and the password is at hand without a prompt (``OKENV_PASSWORD``,
the keyring), the probe and Classic's primary auth ``/api/v1/authn`` go out together — the
probe on a connection of its own, in a thread — so a first login to a Classic org spends
no round trip on the probe. On an Identity Engine org the primary auth's answer is dropped
(its transaction expires unused) and the sign-in goes through IDX, as the probe says. A
password Okta rejects there has then been tried twice; a Classic org's rejection ends the
login at once. When the password is still to be typed, the probe comes first: an Identity
Engine org may not want a password at all.
"""

from __future__ import annotations

import threading
from typing import Any

from okenv import report
from okenv.errors import OkenvError, OktaError
from okenv.okta import classic
from okenv.okta.http import OktaHttp, OktaRefusal
from okenv.okta.session import SessionStore, detect_engine

__all__ = ["probe", "race"]


def probe(http: OktaHttp, store: SessionStore | None) -> str:
    """The engine the probe names (remembered), else classic."""
    return _settle(http, store, detect_engine(http))


def race(
    http: OktaHttp, store: SessionStore | None, username: str, password: str
) -> tuple[str, dict[str, Any] | None]:
    """The engine, and on a Classic org the primary auth's transaction (sent while the
    probe was under way). A rejection stands only on a Classic org."""
    answer: list[str | None] = []
    prober = http.sibling()

    def ask() -> None:
        try:
            answer.append(detect_engine(prober))
        except OkenvError:  # unreachable, or an answer that is not Okta's: unknown
            answer.append(None)
        finally:
            prober.session.close()

    thread = threading.Thread(target=ask, name="okenv-engine-probe", daemon=True)
    thread.start()
    refused: OkenvError | None = None
    tx: dict[str, Any] | None = None
    try:
        tx = classic.start(http, username=username, password=password)
    except (OktaRefusal, OktaError) as exc:  # a wrong password, or an org that says no
        refused = exc
    thread.join(http.timeout)  # the probe's own deadline: the client's timeout
    engine = _settle(http, store, answer[0] if answer else None)
    if engine != "classic":
        report.trace("Identity Engine: the primary auth sent alongside the probe is dropped")
        return engine, None
    if refused is not None:
        raise refused
    return engine, tx


def _settle(http: OktaHttp, store: SessionStore | None, detected: str | None) -> str:
    report.trace(f"Okta engine: {detected or 'unknown (using classic)'}")
    if detected is not None and store is not None:
        store.save_engine(http.org_url, detected)
    return detected or "classic"
