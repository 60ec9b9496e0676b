"""Pytest fixtures for the fakes; import them into a conftest.py (``from
tests.fakes.fixtures import fake_okta``) or a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.okta import FakeOkta


@pytest.fixture
def fake_okta() -> Iterator[FakeOkta]:
    """A started :class:`FakeOkta` with the default org (one user with TOTP, two roles),
    stopped after the test. Knobs can be changed on it freely during the test. The test
    fails at teardown if a handler of the fake itself raised (a bug in the fake), or if the
    org refused an IDX post that did not fit its form (unless the test expected that)."""
    okta = FakeOkta()
    okta.start()
    try:
        yield okta
    finally:
        okta.stop()
    if okta.errors:
        raise AssertionError(f"FakeOkta handlers raised: {okta.errors!r}") from okta.errors[0]
    if okta.idx_rejections and not okta.idx_rejections_expected:
        raise AssertionError(f"FakeOkta refused IDX posts: {okta.idx_rejections!r}")
