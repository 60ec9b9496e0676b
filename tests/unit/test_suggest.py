"""The pure near-miss helpers: did-you-mean (difflib) and the role picker's filter."""

from __future__ import annotations

from okenv.commands import NAMES
from okenv.okta.mfa import code_problem
from okenv.suggest import did_you_mean, fuzzy_filter, nearest, with_suggestion


def test_nearest_command_names() -> None:
    assert nearest("lgin", NAMES) == ["login"]
    assert nearest("stauts", NAMES) == ["status"]
    assert nearest("LOGOT", NAMES) == ["logout", "login"]  # best first, any case
    assert nearest("prod-admin", NAMES) == []


def test_did_you_mean_wording() -> None:
    assert did_you_mean("lgin", NAMES) == "did you mean 'login'?"
    assert did_you_mean("bsh", ["bash", "zsh", "fish"]) == "did you mean 'bash' or 'zsh'?"
    assert did_you_mean("xyz", ["bash"]) is None
    assert with_suggestion("hint", "xyz", ["bash"]) == "hint"
    assert with_suggestion("hint", "bahs", ["bash"]) == "did you mean 'bash'? hint"


OPTIONS = [
    "prod-main (111111111111) / Admin",
    "prod-main (111111111111) / ReadOnly",
    "dev-sandbox (222222222222) / Admin",
    "billing (333333333333) / BillingViewer",
]


def test_fuzzy_filter_substring_first_then_letters_in_order() -> None:
    assert fuzzy_filter("", OPTIONS) == [0, 1, 2, 3]
    assert fuzzy_filter("read", OPTIONS) == [1]
    assert fuzzy_filter("ADMIN", OPTIONS) == [0, 2]
    assert fuzzy_filter("2222", OPTIONS) == [2]
    assert fuzzy_filter("pmro", OPTIONS) == [1]  # p…m…r…o in order, no substring
    assert fuzzy_filter("dev admin", OPTIONS) == [2]  # every word must match
    assert fuzzy_filter("zzz", OPTIONS) == []


def test_fuzzy_filter_prefers_closer_matches() -> None:
    assert fuzzy_filter("bill", OPTIONS)[0] == 3
    assert fuzzy_filter("a", ["xxa", "a"]) == [1, 0]  # earlier substring first


def test_codes_are_checked_before_okta_sees_them() -> None:
    assert code_problem("123456") is None
    assert code_problem("12345678") is None
    assert code_problem("12345") == "a code has 6 to 8 digits, not 5"
    assert code_problem("12345a") == "a code is digits only"
    assert code_problem("١٢٣٤٥٦") == "a code is digits only"  # Arabic-Indic digits
    assert code_problem("") is not None
