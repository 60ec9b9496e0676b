"""A fake AWS STS speaking the Query protocol on 127.0.0.1, for boto3 clients in tests.

    with FakeSts(max_session_duration={ADMIN: 43200}) as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        ...
        assert sts.calls[0][0] == "AssumeRoleWithSAML"

Actions:

- ``AssumeRoleWithSAML`` (unsigned): reads the base64 SAML assertion; the (RoleArn,
  PrincipalArn) pair must be one of its Role values (else 403 AccessDenied). DurationSeconds
  (default 3600, 900..43200) over the role's MaxSessionDuration (``max_session_duration``,
  default 3600) is a 400 ValidationError with AWS's message; the assertion's SessionDuration
  can only shorten the session. An expired assertion is 400 ExpiredTokenException.
- ``GetCallerIdentity`` (SigV4-signed): the access key id in the Authorization header must be
  one this fake issued (else 403 InvalidClientTokenId); answers the assumed-role ARN.
- ``AssumeRole`` (SigV4-signed, role chaining): signed with issued keys, at most 3600 s.

Knobs: ``errors`` (role ARN → (code, HTTP status, message), answered instead of success for
that role), ``html_error_status`` (answer every request with that status and an HTML page),
``assumable`` (role ARN → ARNs allowed to AssumeRole into it; unset means anyone),
``external_ids`` (role ARN → the ExternalId its trust policy requires for AssumeRole), ``hold``
(a ``threading.Event`` every request waits on, to provoke client read timeouts), ``holds``
(role ARN → an Event that only requests for that RoleArn wait on: one login held while
another proceeds), ``tamper`` (a function applied to every credential before it is issued:
hostile values such as a session token with a line break), ``junk_answer`` (a body answered
with HTTP 200 to every request instead of the action's result).
Every request is logged in ``calls`` as (action, params) and its headers in ``headers``,
under a lock. Signatures are not verified.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

__all__ = ["MAX_SESSION_DURATION_MESSAGE", "FakeSts", "IssuedCredentials"]

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
MAX_SESSION_DURATION_MESSAGE = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
CHAINING_MESSAGE = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
    "role chaining."
)
ROLE_ARN = re.compile(r"arn:(aws|aws-us-gov|aws-cn):iam::(\d{12}):role/(?:[^/]+/)*([^/]+)")
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>Internal Server Error</h1><p>Something went wrong.</p></body></html>"
)


@dataclass(frozen=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    role_arn: str
    assumed_role_arn: str
    assumed_role_id: str


class StsFault(Exception):
    def __init__(self, code: str, status: int, message: str, kind: str = "Sender") -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.kind = kind


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass(frozen=True)
class _Saml:
    roles: list[tuple[str, str]]  # (role_arn, provider_arn)
    session_name: str | None
    session_duration: int | None
    not_on_or_after: datetime | None
    issuer: str
    audience: str
    subject: str


def _read_saml(encoded: str) -> _Saml:
    invalid = StsFault("InvalidIdentityToken", 400, "Invalid base64 SAMLResponse")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    text = raw.decode("utf-8", "replace")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise StsFault("InvalidIdentityToken", 400, "Response contains a DTD")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise StsFault("InvalidIdentityToken", 400, "Response is not well-formed XML") from None

    attributes: dict[str, list[str]] = {}
    issuer = audience = subject = ""
    not_on_or_after: datetime | None = None
    for element in root.iter():
        name = _local(element.tag)
        if name == "Attribute":
            attributes[element.get("Name", "")] = [
                "".join(v.itertext()).strip() for v in element if _local(v.tag) == "AttributeValue"
            ]
        elif name == "Issuer" and not issuer:
            issuer = (element.text or "").strip()
        elif name == "Audience" and not audience:
            audience = (element.text or "").strip()
        elif name == "NameID" and not subject:
            subject = (element.text or "").strip()
        elif name == "SubjectConfirmationData" and element.get("NotOnOrAfter"):
            stamp = element.get("NotOnOrAfter", "").replace("Z", "+00:00")
            not_on_or_after = datetime.fromisoformat(stamp)

    roles: list[tuple[str, str]] = []
    for value in attributes.get(ROLE_ATTRIBUTE, []):
        parts = [p.strip() for p in value.split(",")]
        role = next((p for p in parts if ":role/" in p), None)
        provider = next((p for p in parts if ":saml-provider/" in p), None)
        if role and provider:
            roles.append((role, provider))
    names = attributes.get(SESSION_NAME_ATTRIBUTE, [])
    durations = attributes.get(SESSION_DURATION_ATTRIBUTE, [])
    return _Saml(
        roles=roles,
        session_name=names[0] if names else None,
        session_duration=int(durations[0]) if durations else None,
        not_on_or_after=not_on_or_after,
        issuer=issuer,
        audience=audience or "https://signin.aws.amazon.com/saml",
        subject=subject,
    )


def _duration(params: Mapping[str, str], default: int = 3600) -> int:
    raw = params.get("DurationSeconds")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StsFault("ValidationError", 400, f"Invalid DurationSeconds: {raw!r}") from None
    if value < 900:
        raise StsFault(
            "ValidationError",
            400,
            f"1 validation error detected: Value '{value}' at 'durationSeconds' failed to "
            "satisfy constraint: Member must have value greater than or equal to 900",
        )
    if value > 43200:
        raise StsFault(
            "ValidationError",
            400,
            f"1 validation error detected: Value '{value}' at 'durationSeconds' failed to "
            "satisfy constraint: Member must have value less than or equal to 43200",
        )
    return value


def _require(params: Mapping[str, str], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise StsFault(
                "MissingParameter", 400, f"The request must contain the parameter {name}"
            )


class FakeSts:
    def __init__(
        self,
        *,
        max_session_duration: Mapping[str, int] | None = None,
        errors: Mapping[str, tuple[str, int, str]] | None = None,
        html_error_status: int | None = None,
        assumable: Mapping[str, set[str]] | None = None,
        external_ids: Mapping[str, str] | None = None,
        check_expiry: bool = True,
    ) -> None:
        self.max_session_duration: dict[str, int] = dict(max_session_duration or {})
        self.errors: dict[str, tuple[str, int, str]] = dict(errors or {})
        self.html_error_status = html_error_status
        self.assumable: dict[str, set[str]] | None = (
            None if assumable is None else {k: set(v) for k, v in assumable.items()}
        )
        self.external_ids: dict[str, str] = dict(external_ids or {})
        self.check_expiry = check_expiry
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.issued: dict[str, IssuedCredentials] = {}
        self.failures: list[Exception] = []
        self.headers: list[dict[str, str]] = []  # request headers, lower-cased, parallel to calls
        self.hold: threading.Event | None = None  # when set, requests wait for it (timeouts)
        self.holds: dict[str, threading.Event] = {}  # RoleArn → Event its requests wait on
        self.tamper: Callable[[IssuedCredentials], IssuedCredentials] | None = None
        self.junk_answer: str | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSts is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                status, content_type, payload = fake._handle(
                    "POST", self.path, dict(self.headers.items()), body
                )
                self._send(status, content_type, payload)

            def do_GET(self) -> None:
                query = self.path.split("?", 1)[1] if "?" in self.path else ""
                status, content_type, payload = fake._handle(
                    "GET", self.path, dict(self.headers.items()), query
                )
                self._send(status, content_type, payload)

            def _send(self, status: int, content_type: str, payload: str) -> None:
                data = payload.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-amzn-RequestId", secrets.token_hex(16))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-sts", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        for event in list(self.holds.values()):
            event.set()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers for tests -----------------------------------------------------------------

    def actions(self) -> list[str]:
        with self._lock:
            return [action for action, _ in self.calls]

    def last(self, action: str) -> dict[str, str]:
        with self._lock:
            for name, params in reversed(self.calls):
                if name == action:
                    return params
        raise LookupError(f"no {action} call was made")

    # -- protocol --------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, headers: Mapping[str, str], body: str
    ) -> tuple[int, str, str]:
        params = dict(parse_qsl(body, keep_blank_values=True))
        action = params.get("Action", "")
        with self._lock:
            self.calls.append((action, params))
            self.headers.append({k.lower(): v for k, v in headers.items()})
        hold = self.hold
        if hold is not None:
            hold.wait(timeout=30)
        role_hold = self.holds.get(params.get("RoleArn", ""))
        if role_hold is not None:
            role_hold.wait(timeout=30)
        if self.html_error_status is not None:
            return self.html_error_status, "text/html; charset=utf-8", HTML_PAGE
        if self.junk_answer is not None:
            return 200, "text/xml", self.junk_answer
        try:
            if params.get("Version") != "2011-06-15":
                raise StsFault("InvalidAction", 400, "Could not find operation for this version")
            handler = {
                "AssumeRoleWithSAML": self._assume_role_with_saml,
                "GetCallerIdentity": self._get_caller_identity,
                "AssumeRole": self._assume_role,
            }.get(action)
            if handler is None:
                raise StsFault("InvalidAction", 400, f"Could not find operation {action}")
            payload = handler(params, {k.lower(): v for k, v in headers.items()})
        except StsFault as fault:
            return fault.status, "text/xml", self._error(fault)
        except Exception as exc:  # a bug in the fake itself: keep it for the test to see
            with self._lock:
                self.failures.append(exc)
            return 500, "text/xml", self._error(StsFault("InternalFailure", 500, repr(exc)))
        return 200, "text/xml", payload

    def _error(self, fault: StsFault) -> str:
        return (
            f'<ErrorResponse xmlns="{NS}">'
            f"<Error><Type>{fault.kind}</Type><Code>{escape(fault.code)}</Code>"
            f"<Message>{escape(fault.message)}</Message></Error>"
            f"<RequestId>{secrets.token_hex(16)}</RequestId></ErrorResponse>"
        )

    def _inject(self, role_arn: str) -> None:
        injected = self.errors.get(role_arn)
        if injected is not None:
            code, status, message = injected
            raise StsFault(code, status, message, "Receiver" if status >= 500 else "Sender")

    def _issue(self, role_arn: str, session_name: str, seconds: int) -> IssuedCredentials:
        match = ROLE_ARN.fullmatch(role_arn)
        if match is None:
            raise StsFault("ValidationError", 400, f"{role_arn} is invalid")
        partition, account, name = match.groups()
        role_id = "AROA" + _random(string.ascii_uppercase + string.digits, 17)
        issued = IssuedCredentials(
            access_key_id="ASIA" + _random(string.ascii_uppercase + string.digits, 16),
            secret_access_key=_random(string.ascii_letters + string.digits + "+/", 40),
            session_token=base64.b64encode(secrets.token_bytes(96)).decode("ascii"),
            expiration=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds),
            role_arn=role_arn,
            assumed_role_arn=f"arn:{partition}:sts::{account}:assumed-role/{name}/{session_name}",
            assumed_role_id=f"{role_id}:{session_name}",
        )
        if self.tamper is not None:
            issued = self.tamper(issued)
        with self._lock:
            self.issued[issued.access_key_id] = issued
        return issued

    @staticmethod
    def _credentials_xml(issued: IssuedCredentials) -> str:
        return (
            "<Credentials>"
            f"<AccessKeyId>{issued.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{escape(issued.secret_access_key)}</SecretAccessKey>"
            f"<SessionToken>{escape(issued.session_token)}</SessionToken>"
            f"<Expiration>{_iso(issued.expiration)}</Expiration>"
            "</Credentials>"
            "<AssumedRoleUser>"
            f"<AssumedRoleId>{escape(issued.assumed_role_id)}</AssumedRoleId>"
            f"<Arn>{escape(issued.assumed_role_arn)}</Arn>"
            "</AssumedRoleUser>"
        )

    @staticmethod
    def _wrap(action: str, result: str) -> str:
        return (
            f'<{action}Response xmlns="{NS}"><{action}Result>{result}</{action}Result>'
            f"<ResponseMetadata><RequestId>{secrets.token_hex(16)}</RequestId>"
            f"</ResponseMetadata></{action}Response>"
        )

    def _assume_role_with_saml(self, params: Mapping[str, str], headers: Mapping[str, str]) -> str:
        _require(params, "RoleArn", "PrincipalArn", "SAMLAssertion")
        role_arn, principal_arn = params["RoleArn"], params["PrincipalArn"]
        saml = _read_saml(params["SAMLAssertion"])
        if self.check_expiry and (
            saml.not_on_or_after is not None and saml.not_on_or_after <= datetime.now(UTC)
        ):
            raise StsFault(
                "ExpiredTokenException", 400, "Token must be redeemed within 5 minutes of issuance"
            )
        if (role_arn, principal_arn) not in saml.roles:
            raise StsFault("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML")
        self._inject(role_arn)
        requested = _duration(params)
        if requested > self.max_session_duration.get(role_arn, 3600):
            raise StsFault("ValidationError", 400, MAX_SESSION_DURATION_MESSAGE)
        granted = requested
        if saml.session_duration is not None:
            granted = min(granted, saml.session_duration)
        session_name = saml.session_name or ""
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", session_name):
            raise StsFault(
                "InvalidIdentityToken", 400, "SAML Assertion: RoleSessionName is missing or invalid"
            )
        issued = self._issue(role_arn, session_name, granted)
        result = (
            self._credentials_xml(issued)
            + f"<Issuer>{escape(saml.issuer)}</Issuer>"
            + f"<Audience>{escape(saml.audience)}</Audience>"
            + f"<Subject>{escape(saml.subject)}</Subject>"
            + "<SubjectType>unspecified</SubjectType>"
            + "<NameQualifier>"
            + base64.b64encode(secrets.token_bytes(20)).decode("ascii")
            + "</NameQualifier>"
        )
        return self._wrap("AssumeRoleWithSAML", result)

    def _caller(self, headers: Mapping[str, str]) -> IssuedCredentials:
        invalid = StsFault(
            "InvalidClientTokenId", 403, "The security token included in the request is invalid."
        )
        match = re.search(r"Credential=([^/,\s]+)/", headers.get("authorization", ""))
        if match is None:
            raise StsFault(
                "MissingAuthenticationToken", 403, "Request is missing Authentication Token"
            )
        with self._lock:
            issued = self.issued.get(match.group(1))
        if issued is None or headers.get("x-amz-security-token") != issued.session_token:
            raise invalid
        if issued.expiration <= datetime.now(UTC):
            raise StsFault(
                "ExpiredToken", 403, "The security token included in the request is expired"
            )
        return issued

    def _get_caller_identity(self, params: Mapping[str, str], headers: Mapping[str, str]) -> str:
        issued = self._caller(headers)
        account = issued.assumed_role_arn.split(":")[4]
        result = (
            f"<Arn>{escape(issued.assumed_role_arn)}</Arn>"
            f"<UserId>{escape(issued.assumed_role_id)}</UserId>"
            f"<Account>{account}</Account>"
        )
        return self._wrap("GetCallerIdentity", result)

    def _assume_role(self, params: Mapping[str, str], headers: Mapping[str, str]) -> str:
        caller = self._caller(headers)
        _require(params, "RoleArn", "RoleSessionName")
        role_arn = params["RoleArn"]
        if self.assumable is not None and caller.role_arn not in self.assumable.get(
            role_arn, set()
        ):
            raise StsFault(
                "AccessDenied",
                403,
                f"User: {caller.assumed_role_arn} is not authorized to perform: sts:AssumeRole "
                f"on resource: {role_arn}",
            )
        required = self.external_ids.get(role_arn)
        if required is not None and params.get("ExternalId") != required:
            raise StsFault(
                "AccessDenied",
                403,
                f"User: {caller.assumed_role_arn} is not authorized to perform: sts:AssumeRole "
                f"on resource: {role_arn}",
            )
        self._inject(role_arn)
        requested = _duration(params)
        if requested > 3600:
            raise StsFault("ValidationError", 400, CHAINING_MESSAGE)
        issued = self._issue(role_arn, params["RoleSessionName"], requested)
        return self._wrap("AssumeRole", self._credentials_xml(issued))
