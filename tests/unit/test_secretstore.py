"""The keyring's deadline: a call that never returns is given up on, not waited for."""

from __future__ import annotations

import threading

import pytest

from okenv.secretstore import KeyringTimeout, bounded


def test_a_hanging_keyring_call_times_out() -> None:
    release = threading.Event()
    try:
        with pytest.raises(KeyringTimeout):
            bounded(lambda: release.wait(), deadline=0.05)
    finally:
        release.set()


def test_results_and_errors_come_back() -> None:
    assert bounded(lambda: "value") == "value"
    with pytest.raises(LookupError):
        bounded(lambda: {}["missing"])
