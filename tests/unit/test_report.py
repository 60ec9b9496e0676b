"""okenv.report: the one stderr voice (prefix once, control characters escaped, --debug
lines only when asked for, swappable)."""

from __future__ import annotations

import pytest

from okenv import report


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    written: list[str] = []
    monkeypatch.setattr(report, "REPORTER", report.Reporter(written.append, debug=True))
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


def test_trace_lines_only_under_debug(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = report.Reporter()
    quiet.trace("GET /api/v1/sessions/me")
    quiet.debug = True
    quiet.trace("POST /api/v1/authn")
    assert capsys.readouterr() == ("", "okenv: debug: POST /api/v1/authn\n")


def test_configure_says_once_whether_to_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "REPORTER", report.Reporter(lambda _text: None))
    report.configure(debug=True)
    assert report.tracing()
    report.configure(debug=False)
    assert not report.tracing()


def test_captured_collects_messages_and_restores() -> None:
    before = report.REPORTER
    with report.captured() as got:
        report.warn("w")
        report.trace("t")
    with report.captured(debug=False) as quiet:
        report.trace("t")
    assert got == ["warning: w", "debug: t"]
    assert quiet == []
    assert report.REPORTER is before


def test_prefixed_is_the_one_prefix() -> None:
    assert report.prefixed("a\x07b") == "okenv: a\\x07b"
