"""Run a command as a child process and measure it: wall time (fork to reap) and peak RSS
(``ru_maxrss`` of that child from ``wait4``, which survives ``execve``)."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Run:
    seconds: float
    max_rss_kib: int
    returncode: int
    stdout: str
    stderr: str


def run(
    argv: Sequence[str], env: Mapping[str, str], cwd: str | None = None, timeout: float = 120
) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # no terminal: a prompt fails, never hangs
        )
        killer = threading.Timer(timeout, process.kill)  # a hung tool must not hang the bench
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap again
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            int(usage.ru_maxrss),
            process.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


@dataclass
class Stats:
    samples: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.samples.append(value)

    def summary(self) -> dict[str, Any]:
        s = sorted(self.samples)
        if not s:
            return {"n": 0}
        q = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else [s[0]] * 3
        return {
            "n": len(s),
            "median": statistics.median(s),
            "p25": q[0],
            "p75": q[2],
            "min": s[0],
            "max": s[-1],
            "mean": statistics.fmean(s),
            "stdev": statistics.stdev(s) if len(s) > 1 else 0.0,
        }
