from __future__ import annotations

from pathlib import Path

import pytest

from okenv import report
from okenv.config import Profile, check_org_url, parse_duration, resolve_profile
from okenv.errors import ConfigError, UsageError

APP = "https://acme.okta.com/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h", 3600), ("12h", 43200), ("1h30m", 5400), ("3600", 3600), (7200, 7200)],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1d", "10m", "13h", "abc", "-5", 100, "1h 5m"])
def test_bad_durations(text: str | int) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_defaults_profile_env_and_flags_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[defaults]
app_url = "{APP}"
username = "file@acme.com"
duration = "2h"
region = "eu-west-1"

[profiles.prod]
role = "arn:aws:iam::123456789012:role/Admin"
region = "us-east-1"
""",
    )
    profile = resolve_profile("prod", path=path, environ={})
    assert profile == Profile(
        name="prod",
        app_url=APP,
        username="file@acme.com",
        duration=7200,
        region="us-east-1",
        role="arn:aws:iam::123456789012:role/Admin",
    )
    assert profile.org_url == "https://acme.okta.com"
    env = resolve_profile("prod", path=path, environ={"OKENV_USERNAME": "env@acme.com"})
    assert env.username == "env@acme.com"
    flags = resolve_profile(
        "prod",
        path=path,
        environ={"OKENV_USERNAME": "env@acme.com"},
        overrides={"username": "flag@acme.com", "region": None},
    )
    assert flags.username == "flag@acme.com"
    assert flags.region == "us-east-1"


def test_unknown_profile_lists_known(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.a]\napp_url = "{APP}"\n[profiles.b]\napp_url = "{APP}"\n')
    with pytest.raises(UsageError) as err:
        resolve_profile("c", path=path, environ={})
    assert err.value.exit_code == 2
    assert "'c'" in err.value.message
    assert err.value.hint is not None and "a, b" in err.value.hint


def test_missing_file_points_at_configure(tmp_path: Path) -> None:
    """First run: no config file at all is one line that names it and `okenv configure`."""
    path = tmp_path / "none.toml"
    with pytest.raises(UsageError) as err:
        resolve_profile("x", path=path, environ={})
    assert err.value.message == (
        f"no config file yet ({path}): run `okenv configure` to set up okenv"
    )
    assert err.value.hint is None


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.a]\napp_url = "x"\nrole = \n')
    with pytest.raises(ConfigError) as err:
        resolve_profile("a", path=path, environ={})
    assert "line 3" in err.value.message


def test_missing_app_url(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.a]\nrole = 'x'\n")
    with pytest.raises(ConfigError, match="no app_url"):
        resolve_profile("a", path=path, environ={})


@pytest.mark.parametrize(
    "url",
    ["http://acme.okta.com/home/x", "ftp://acme.okta.com/", "acme.okta.com", "https://"],
)
def test_rejected_org_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        check_org_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://acme.okta.com/x", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]:1/"],
)
def test_accepted_org_urls(url: str) -> None:
    check_org_url(url)


def test_unknown_keys_warn_but_work(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.a]\napp_url = "{APP}"\ncolour = "blue"\n')
    with report.captured() as warnings:
        profile = resolve_profile("a", path=path, environ={})
    assert profile.app_url == APP
    assert len(warnings) == 1 and "'colour'" in warnings[0]


def test_wrong_type_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.a]\napp_url = "{APP}"\nregion = 5\n')
    with pytest.raises(ConfigError, match="region"):
        resolve_profile("a", path=path, environ={})


def test_unknown_factor(tmp_path: Path) -> None:
    path = write(tmp_path, f'[profiles.a]\napp_url = "{APP}"\nfactor = "carrier-pigeon"\n')
    with pytest.raises(ConfigError, match="factor"):
        resolve_profile("a", path=path, environ={})


def test_fingerprint_tracks_settings() -> None:
    a = Profile(name="p", app_url=APP, role="r1")
    assert a.fingerprint() == Profile(name="p", app_url=APP, role="r1").fingerprint()
    assert a.fingerprint() != Profile(name="p", app_url=APP, role="r2").fingerprint()


def test_question_factor_and_keep_signed_in(tmp_path: Path) -> None:
    text = f'[profiles.a]\napp_url = "{APP}"\nfactor = "question"\nokta_keep_signed_in = true\n'
    profile = resolve_profile("a", path=write(tmp_path, text), environ={})
    assert (profile.factor, profile.okta_keep_signed_in) == ("question", True)
    unset = text[: text.index("okta_keep")]
    assert resolve_profile("a", path=write(tmp_path, unset), environ={}).okta_keep_signed_in is None
    path = write(tmp_path, f'[profiles.a]\napp_url = "{APP}"\nokta_keep_signed_in = "yes"\n')
    with pytest.raises(
        ConfigError, match=r"okta_keep_signed_in in \[profiles\.a\] must be a boolean"
    ):
        resolve_profile("a", path=path, environ={})


def test_device_engine_needs_an_oidc_client_id_from_defaults_or_profile(tmp_path: Path) -> None:
    client = "0oadev1c3auth0r1z3d7"
    text = f'[defaults]\noidc_client_id = "{client}"\n[profiles.a]\napp_url = "{APP}"\n'
    profile = resolve_profile("a", path=write(tmp_path, text + 'engine = "device"\n'), environ={})
    assert (profile.engine, profile.oidc_client_id) == ("device", client)
    missing = f'[profiles.a]\napp_url = "{APP}"\nengine = "device"\n'
    with pytest.raises(ConfigError, match='engine = "device" needs oidc_client_id'):
        resolve_profile("a", path=write(tmp_path, missing), environ={})


@pytest.mark.parametrize("bad", ["", "0oa123", "0oa1b2c3d4e5f6g7h8i9&x=1", "1oa1b2c3d4e5f6g7h8i9"])
def test_a_malformed_oidc_client_id_is_refused(tmp_path: Path, bad: str) -> None:
    text = f'[profiles.a]\napp_url = "{APP}"\nengine = "device"\noidc_client_id = "{bad}"\n'
    with pytest.raises(ConfigError, match="oidc_client_id"):
        resolve_profile("a", path=write(tmp_path, text), environ={})
