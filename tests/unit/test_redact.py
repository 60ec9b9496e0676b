from __future__ import annotations

from okenv.redact import redact_url


def test_secret_query_values_are_replaced() -> None:
    url = "https://acme.okta.com/home/amazon_aws/0oa1/272?sessionToken=abc123&RelayState=x&fromHome=true"
    text = redact_url(url)
    assert "abc123" not in text
    assert text.startswith("https://acme.okta.com/home/amazon_aws/0oa1/272?")
    assert "sessionToken=<redacted>" in text and "fromHome=true" in text


def test_urls_without_query_are_unchanged() -> None:
    assert redact_url("https://acme.okta.com/api/v1/authn") == "https://acme.okta.com/api/v1/authn"


def test_state_tokens_and_passwords() -> None:
    text = redact_url("https://o/x?stateToken=s3cr3t&password=hunter2&SAMLResponse=PD94")
    for secret in ("s3cr3t", "hunter2", "PD94"):
        assert secret not in text


def test_the_device_flows_tokens() -> None:
    names = ("device_code", "user_code", "device_secret", "id_token", "access_token", "token")
    url = "https://acme.okta.com/x?" + "&".join(f"{n}=S3CR3T{i}" for i, n in enumerate(names))
    shown = redact_url(url)
    assert "S3CR3T" not in shown
    assert all(f"{name}=<redacted>" in shown for name in names)
