"""The filtering picker's pure parts: search texts, key splitting and the state machine."""

from __future__ import annotations

from okenv.picker import Picker, keys, search_texts

LABELS = [
    "prod-main (111111111111)  Admin",
    "                          ReadOnly",
    "dev (222222222222)        Admin",
]


def test_search_texts_carry_the_account_down() -> None:
    assert search_texts(LABELS) == [
        "prod-main (111111111111) Admin",
        "prod-main (111111111111) ReadOnly",
        "dev (222222222222) Admin",
    ]


def test_keys_keep_escape_sequences_whole() -> None:
    assert list(keys("ab\x1b[A\x1b[Bc\r")) == ["a", "b", "\x1b[A", "\x1b[B", "c", "\r"]


def test_typing_filters_and_enter_picks() -> None:
    state = Picker(LABELS)
    for key in "prod":
        assert state.press(key) is None
    assert state.matches == [0, 1]
    assert state.press("\x1b[B") is None
    assert state.press("\x1b[B") is None  # stays on the last match
    assert state.press("\r") == 1


def test_erase_widens_and_nothing_matching_picks_nothing() -> None:
    state = Picker(LABELS)
    for key in "zz":
        state.press(key)
    assert state.matches == []
    assert state.press("\r") is None
    assert any("nothing matches" in line for line in state.lines("Choose:"))
    state.press("\x7f")
    state.press("\x15")  # Ctrl-U
    assert state.query == "" and state.matches == [0, 1, 2]


def test_option_text_is_made_printable() -> None:
    state = Picker(["evil\x1b]0;pwned\x07 (1)  Admin", "b  c"])
    assert "\x1b" not in "".join(state.lines("Choose:"))
