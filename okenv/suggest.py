"""Pure helpers for near misses: "did you mean" and the role picker's filter. No I/O."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def nearest(word: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """The names closest to ``word`` (difflib's ratio, case-insensitive), best first."""
    pool = {name.lower(): name for name in names}
    found = difflib.get_close_matches(word.lower(), list(pool), n=limit, cutoff=0.6)
    return [pool[name] for name in found]


def did_you_mean(word: str, names: Iterable[str]) -> str | None:
    """``"did you mean 'login'?"`` (or two or three names), else None."""
    found = nearest(word, names)
    if not found:
        return None
    quoted = [f"'{name}'" for name in found]
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"


def with_suggestion(hint: str, word: str, names: Iterable[str]) -> str:
    """``hint``, preceded by the nearest names when there are any."""
    suggestion = did_you_mean(word, names)
    return f"{suggestion} {hint}" if suggestion else hint


def _subsequence_span(needle: str, haystack: str) -> int | None:
    """How far apart ``needle``'s letters lie in ``haystack`` (in order), or None."""
    start = -1
    at = 0
    for char in needle:
        found = haystack.find(char, at)
        if found < 0:
            return None
        if start < 0:
            start = found
        at = found + 1
    return at - start


def fuzzy_filter(query: str, options: Sequence[str]) -> list[int]:
    """The indexes of ``options`` that match ``query``, best first.

    Every whitespace-separated word of the query must match: as a substring (best, earlier
    is better) or as letters in order (``pma`` finds ``prod-main/Admin``; closer is better).
    Case-insensitive; ties keep the options' order. An empty query keeps every option.
    """
    words = query.lower().split()
    scored: list[tuple[int, int]] = []
    for index, option in enumerate(options):
        text = option.lower()
        score = 0
        for word in words:
            at = text.find(word)
            if at >= 0:
                score += at
                continue
            span = _subsequence_span(word, text)
            if span is None:
                break
            score += 1000 + span
        else:
            scored.append((score, index))
    scored.sort()
    return [index for _, index in scored]
