"""The ceremony: every key plugged in is asked at once, each from its own worker thread; the
first that answers wins and the others are cancelled. The terminal (PIN prompt, the
"Touch your security key…" spinner) belongs to the calling thread, which answers the keys'
requests (a PIN, a touch to pick the key) through one inbox."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from okenv.errors import Interrupted, SecurityKeyError
from okenv.prompt import Prompter, StatusLine, status
from okenv.webauthn import failures, fido
from okenv.webauthn.request import Assertion, Request

TOUCH_TIMEOUT = 60.0  # seconds for the whole ceremony (Okta's own challenge lives 5 minutes)
PIN_TRIES = 3  # a key needs unplugging after 3 wrong PINs in a row anyway
JOIN_TIMEOUT = 2.0  # seconds to let cancelled keys say goodbye
TOUCH_MESSAGE = "Touch your security key…"
SELECT_MESSAGE = "Touch the security key you want to use…"


@dataclass
class _Message:
    kind: str  # "touch", "select", "pin", "wrong-pin", "done", "failed"
    key: int
    payload: Any = None
    reply: queue.Queue[str | None] | None = None


class _Key:
    """One authenticator, driven from its own thread; it asks the ceremony for PINs."""

    def __init__(self, ceremony: _Ceremony, index: int, make_client: Callable[[Any], Any]):
        self.ceremony = ceremony
        self.index = index
        self.cancel = threading.Event()
        self._make_client = make_client
        self._client: Any = None
        self._pin: str | None = None  # this ceremony only: never stored, never logged
        self._pin_blocked = False
        self.thread = threading.Thread(target=self._run, name=f"okenv-key-{index}", daemon=True)

    def interaction(self) -> Any:
        """The fido2 ``UserInteraction`` of this key (fido2 calls it from this key's thread)."""
        from fido2.client import UserInteraction

        key = self

        class Interaction(UserInteraction):
            def prompt_up(self) -> None:
                key.ceremony.post(_Message("touch", key.index))

            def request_pin(self, permissions: Any, rp_id: str | None) -> str | None:
                return key.request_pin()

            def request_uv(self, permissions: Any, rp_id: str | None) -> bool:
                return True

        return Interaction()

    def request_pin(self) -> str | None:
        if self._pin is not None:
            return self._pin
        retries = self._pin_retries()
        if retries == 0:
            self._pin_blocked = True
            return None
        if not self.ceremony.claim(self):
            return None
        reply: queue.Queue[str | None] = queue.Queue(maxsize=1)
        self.ceremony.post(_Message("pin", self.index, retries, reply))
        self._pin = reply.get()
        return self._pin

    def _pin_retries(self) -> int | None:
        from fido2.ctap2.base import Ctap2
        from fido2.ctap2.pin import ClientPin

        device = self.ceremony.devices[self.index]
        try:
            return ClientPin(Ctap2(device)).get_pin_retries()[0]
        except Exception:
            return None

    def select(self) -> bool:
        """Several keys plugged in and this one needs a PIN: the user touches it first."""
        from fido2.client import ClientError

        self.ceremony.post(_Message("select", self.index))
        try:
            self._client.selection(self.cancel)
        except ClientError:
            return False
        return not self.cancel.is_set()

    def _run(self) -> None:
        try:
            self.ceremony.post(_Message("done", self.index, self._assert()))
        except BaseException as exc:
            self.ceremony.post(_Message("failed", self.index, exc))

    def _assert(self) -> Assertion:
        from fido2.client import ClientError

        request = self.ceremony.request
        self._client = self._make_client(self)
        rp_ids = [request.rp_id] + ([request.appid] if request.appid else [])
        uv = fido.user_verification(request, self._client)
        wrong_pins = 0
        while True:
            error: ClientError | None = None
            for rp_id in rp_ids:  # the org's rpId, then the appid of U2F registrations
                try:
                    selection = self._client.get_assertion(
                        fido.options(request, rp_id, uv), self.cancel
                    )
                    return fido.checked(request, rp_id, selection.get_response(0))
                except ClientError as exc:
                    error = exc
                    if exc.code != ClientError.ERR.DEVICE_INELIGIBLE:
                        break
            assert error is not None
            if self._pin_blocked:
                raise failures.pin_blocked()
            if _ctap_code(error) == "PIN_INVALID" and not self.cancel.is_set():
                wrong_pins += 1
                self._pin = None
                if wrong_pins < PIN_TRIES:
                    self.ceremony.post(_Message("wrong-pin", self.index))
                    continue
                raise failures.wrong_pin()
            raise error


def _ctap_code(error: BaseException) -> str | None:
    """The CTAP error name behind a fido2 ClientError, e.g. ``PIN_INVALID``."""
    from fido2.ctap import CtapError

    cause = getattr(error, "cause", None)
    if isinstance(cause, CtapError):
        return cause.code.name
    return None


class _Ceremony:
    def __init__(
        self,
        request: Request,
        prompter: Prompter,
        devices: Sequence[Any],
        make_client: Callable[[_Key], Any],
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self.request = request
        self.prompter = prompter
        self.devices = list(devices)
        self.timeout = timeout
        self.clock = clock
        self._inbox: queue.Queue[_Message] = queue.Queue()
        self._lock = threading.Lock()
        self._owner: _Key | None = None
        self._wrong_pin = False
        self.keys = [_Key(self, i, make_client) for i in range(len(self.devices))]

    def post(self, message: _Message) -> None:
        self._inbox.put(message)

    def claim(self, key: _Key) -> bool:
        """The key that may ask for a PIN: the only one, or the one the user touches."""
        if len(self.keys) > 1 and self._owner is not key and not key.select():
            return False
        with self._lock:
            if self._owner is None:
                self._owner = key
                for other in self.keys:
                    if other is not key:
                        other.cancel.set()
            return self._owner is key

    def run(self) -> Assertion:
        for key in self.keys:
            key.thread.start()
        try:
            return self._wait()
        except KeyboardInterrupt:
            raise Interrupted("cancelled at the security key") from None
        finally:
            self._stop()

    def _stop(self) -> None:
        for key in self.keys:
            key.cancel.set()
        deadline = self.clock() + JOIN_TIMEOUT
        while True:  # answer any PIN request still queued, so no key waits for ever
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                break
            if message.reply is not None:
                message.reply.put(None)
        for key in self.keys:
            key.thread.join(max(0.0, deadline - self.clock()))

    def _wait(self) -> Assertion:
        deadline = self.clock() + self.timeout
        live = {key.index for key in self.keys}
        errors: list[BaseException] = []
        with ExitStack() as spinner:
            line: StatusLine | None = None
            while live:
                remaining = deadline - self.clock()
                if remaining <= 0:
                    raise failures.timed_out(self.timeout)
                try:
                    message = self._inbox.get(timeout=remaining)
                except queue.Empty:
                    continue
                if message.kind in ("touch", "select"):
                    text = SELECT_MESSAGE if message.kind == "select" else TOUCH_MESSAGE
                    if line is None:
                        line = spinner.enter_context(status(self.prompter, text))
                    else:
                        line.update(text)
                elif message.kind == "wrong-pin":
                    self.prompter.info("wrong PIN")
                    self._wrong_pin = True
                elif message.kind == "pin":
                    spinner.close()
                    line = None
                    assert message.reply is not None
                    pin: str | None = None
                    try:
                        pin = self._ask_pin(message.payload)
                    finally:  # on Ctrl-C or no terminal too: the key must not wait for ever
                        message.reply.put(pin)
                elif message.kind == "done":
                    return message.payload  # type: ignore[no-any-return]
                elif message.kind == "failed":
                    live.discard(message.key)
                    errors.append(message.payload)
                    if _is_not_registered(message.payload) and live and line is not None:
                        line.note("that security key is not registered for this account")
        raise self._explain(errors)

    def _ask_pin(self, retries: int | None) -> str:
        shown = retries is not None and (retries <= 3 or self._wrong_pin)
        left = f" ({retries} tries left)" if shown else ""
        return self.prompter.ask(f"Security key PIN{left}: ", secret=True)

    def _explain(self, errors: Sequence[BaseException]) -> BaseException:
        """The most telling of the keys' failures, as one okenv error."""
        for exc in errors:
            if isinstance(exc, (SecurityKeyError, Interrupted)) or not isinstance(exc, Exception):
                return exc
        if all(_is_not_registered(exc) for exc in errors):
            return failures.not_registered(len(errors) > 1)
        for exc in errors:
            code = _ctap_code(exc)
            if code == "PIN_BLOCKED":
                return failures.pin_blocked()
            if code == "PIN_AUTH_BLOCKED":
                return failures.pin_auth_blocked()
            if code == "PIN_NOT_SET" or "not configured" in str(getattr(exc, "cause", "")):
                return failures.no_pin_set()
            if _is_timeout(exc):
                return failures.timed_out(self.timeout)
        for exc in errors:
            if exc.__class__.__name__ == "PinRequiredError":
                return failures.wrong_pin()
        first = errors[0]
        return failures.error(
            f"the security key failed: {_describe(first)}",
            f"unplug it, plug it in again and retry, {failures.OTHER_FACTOR_HINT}",
        )


def _is_not_registered(exc: BaseException) -> bool:
    from fido2.client import ClientError

    return isinstance(exc, ClientError) and exc.code == ClientError.ERR.DEVICE_INELIGIBLE


def _is_timeout(exc: BaseException) -> bool:
    from fido2.client import ClientError

    return isinstance(exc, ClientError) and exc.code == ClientError.ERR.TIMEOUT


def _describe(exc: BaseException) -> str:
    text = repr(exc) if not str(exc) else str(exc)
    return "".join(ch for ch in text if ch.isprintable())[:200]


def get_assertion(
    request: Request,
    prompter: Prompter,
    *,
    timeout: float = TOUCH_TIMEOUT,
    clock: Callable[[], float] = time.monotonic,
) -> Assertion:
    """An assertion for ``request`` from the first key plugged in that answers.

    Raises :class:`SecurityKeyError` when no key can answer (none found, not registered,
    PIN blocked, no touch in time), :class:`Interrupted` on Ctrl-C.
    """
    if not request.credential_ids:
        raise failures.error(
            "Okta lists no security key registered for your account",
            f"register one with Okta, {failures.OTHER_FACTOR_HINT}",
        )
    if not fido.fido2_available():
        raise failures.not_installed()
    windows = fido.windows_client(request)
    if windows is not None:

        def windows_client(key: _Key) -> Any:
            key.ceremony.post(_Message("touch", key.index))  # Windows shows its own dialog
            return windows

        return _Ceremony(request, prompter, [windows], windows_client, timeout, clock).run()
    devices = fido.discover()
    if not devices:
        raise failures.no_key()

    def make_client(key: _Key) -> Any:
        from fido2.client import Fido2Client

        return Fido2Client(
            devices[key.index],
            client_data_collector=fido.collector(request),
            user_interaction=key.interaction(),
        )

    return _Ceremony(request, prompter, devices, make_client, timeout, clock).run()
