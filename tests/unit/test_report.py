"""okenv.report: the one stderr voice (prefix once, control characters escaped, swappable)."""

from __future__ import annotations

import pytest

from okenv import report


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    written: list[str] = []
    monkeypatch.setattr(report, "REPORTER", report.Reporter(written.append))
    return written


def test_each_kind_gets_the_prefix_once(lines: list[str]) -> None:
    report.notify("logged in")
    report.warn("cannot write the cache")
    report.trace("GET /api/v1/sessions/me")
    assert lines == [
        "okenv: logged in\n",
        "okenv: warning: cannot write the cache\n",
        "okenv: debug: GET /api/v1/sessions/me\n",
    ]


def test_control_characters_are_escaped(lines: list[str]) -> None:
    report.warn("bad\x1b[2J\rname\n")
    assert lines == ["okenv: warning: bad\\x1b[2J\\x0dname\\x0a\n"]


def test_the_default_writes_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    report.Reporter().notify("hello")
    assert capsys.readouterr() == ("", "okenv: hello\n")
