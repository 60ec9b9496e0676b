"""Security keys (WebAuthn / FIDO2): one assertion from whichever key the user touches.

The entry is :func:`okenv.webauthn.ceremony.get_assertion` for a
:class:`okenv.webauthn.request.Request`; :mod:`~okenv.webauthn.fido` talks to python-fido2,
:mod:`~okenv.webauthn.failures` says how a key failed. This package module imports nothing.

The one package that talks to authenticators, through python-fido2 (the optional extra
``okenv[fido2]``). It is imported only when a security key is used: nothing here imports
fido2 at module level, so the cached path never pays for it.

Keys are found through python-fido2's own transports (USB HID, and PC/SC when pyscard is
installed); on Windows the request goes to the Windows WebAuthn API (its own dialog). All
keys found are asked at once; the first that answers wins and the others are cancelled.
The terminal (PIN prompt, "Touch your security key…" spinner) belongs to the calling
thread; each key is driven from a worker thread that asks the caller for what it needs.
"""
