"""SHA-256 for cache keys, without importing hashlib.

hashlib's OpenSSL binding costs ~2 ms at start-up, a tenth of a cached call; the builtin
module behind it is enough for naming files.
"""

from __future__ import annotations


def sha256_hex(data: bytes) -> str:
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:  # pragma: no cover - exotic builds
            from hashlib import sha256
    return str(sha256(data).hexdigest())
