"""Run the AWS half of a login in a forked process, in parallel with the Okta half.

A full login is CPU-bound on imports, not on the network: requests + MechanicalSoup for
Okta and botocore + an STS client for AWS cost about 200 ms each, and a thread cannot
overlap them (the GIL). A child forked before either import can: it imports botocore and
builds its client on the other core while the parent signs in to Okta, then serves calls
(pickled over a private pipe) until the parent is done with it.

Only on Linux (fork without exec is not safe with macOS system frameworks, and Windows has
no fork), and only with two CPUs or more (on one, a login with the worker measured ~35 ms
slower). Whenever the worker cannot answer — no fork, the child died, a pickling problem —
the call runs in this process instead.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct("!I")


def _write_frame(fd: int, obj: object) -> None:
    data = pickle.dumps(obj)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> Any:
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        raise EOFError
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    if body is None:
        raise EOFError
    return pickle.loads(body)  # noqa: S301 - our own forked child, over a private pipe


def _serve(requests: int, replies: int, warm: Callable[[], object]) -> None:
    """The child: warm up, then answer calls until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.disable()  # a short-lived child: no cycle collection during ~150 ms of imports
    with contextlib.suppress(BaseException):
        warm()
    while True:
        try:
            target, kwargs = _read_frame(requests)
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, object] = ("ok", resolve(target)(**kwargs))
        except BaseException as exc:
            reply = ("error", exc)
        try:
            _write_frame(replies, reply)
        except (pickle.PicklingError, TypeError, AttributeError):
            _write_frame(replies, ("unpicklable", None))
        except OSError:
            return


def resolve(target: str) -> Callable[..., Any]:
    """``"package.module:function"`` → the function (importing the module only here, so a
    caller never imports what the worker is there to import)."""
    import importlib

    module, _, name = target.partition(":")
    func: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return func


def call_here(target: str, /, **kwargs: Any) -> Any:
    """What :meth:`Worker.call` does, in this process."""
    return resolve(target)(**kwargs)


class Worker:
    """A forked helper process; :meth:`call` runs a module-level function in it."""

    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self._pid = pid
        self._requests = requests
        self._replies = replies

    @classmethod
    def start(cls, warm: Callable[[], object]) -> Worker | None:
        """Fork a worker that first runs ``warm()``; None where forking is not used."""
        if not sys.platform.startswith("linux"):
            return None
        if len(os.sched_getaffinity(0)) < 2:
            return None  # one CPU: nothing runs in parallel, and the fork only costs
        sys.stdout.flush()
        sys.stderr.flush()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns into the caller's code
            code = 0
            try:
                os.close(req_w)
                os.close(rep_r)
                _serve(req_r, rep_w, warm)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(rep_w)
        return cls(pid, req_w, rep_r)

    def call(self, target: str, /, **kwargs: Any) -> Any:
        """``module:function`` called with ``kwargs`` in the worker; its exceptions are
        raised here."""
        if self._pid:
            try:
                _write_frame(self._requests, (target, kwargs))
                status, value = _read_frame(self._replies)
            except (EOFError, OSError, pickle.PicklingError, TypeError, AttributeError):
                self.close()
            else:
                if status == "ok":
                    return value
                if status == "error":
                    raise value
                self.close()
        return call_here(target, **kwargs)  # no worker (any more): run it here

    def close(self) -> None:
        """End the worker at once (idle or still warming up) and reap it."""
        if not self._pid:
            return
        pid, self._pid = self._pid, 0
        for fd in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def start_sts_worker(region: str = "us-east-1", timeout: float | None = None) -> Worker | None:
    """A worker that imports okenv.sts (botocore), builds the run's STS client for ``region``
    and opens its connection ahead of time."""

    def warm() -> None:
        from okenv import sts

        sts.warm_up(region, timeout)

    return Worker.start(warm)
