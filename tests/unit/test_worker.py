"""The forked worker: calls run in another process, errors come back whole, and any
failure of the worker falls back to running the call here."""

from __future__ import annotations

import os
import sys

import pytest

from okenv.errors import AuthorizationError
from okenv.worker import Worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork worker")


def pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * 2


def deny(role: str) -> None:
    raise AuthorizationError(f"denied {role}", hint="check the trust policy")


def die_unless_in(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(3)  # the worker dies mid-call
    return "ran here"


def warm_marker(path: str) -> None:
    with open(path, "w") as f:
        f.write(str(os.getpid()))


def test_call_runs_in_the_child_after_warm_up(tmp_path: object) -> None:
    marker = f"{tmp_path}/warm"
    worker = Worker.start(lambda: warm_marker(marker))
    assert worker is not None
    try:
        pid, value = worker.call(f"{__name__}:pid_and", value=21)
        assert value == 42
        assert pid != os.getpid()
        with open(marker) as f:
            assert int(f.read()) == pid  # warm-up ran in the same child, before the call
    finally:
        worker.close()


def test_errors_keep_class_message_and_hint() -> None:
    worker = Worker.start(lambda: None)
    assert worker is not None
    try:
        with pytest.raises(AuthorizationError) as caught:
            worker.call(f"{__name__}:deny", role="Admin")
        assert caught.value.message == "denied Admin"
        assert caught.value.hint == "check the trust policy"
    finally:
        worker.close()


def test_a_dead_worker_falls_back_to_this_process() -> None:
    worker = Worker.start(lambda: None)
    assert worker is not None
    try:
        assert worker.call(f"{__name__}:die_unless_in", parent=os.getpid()) == "ran here"
    finally:
        worker.close()


def test_after_a_crash_calls_run_here() -> None:
    worker = Worker.start(lambda: None)
    assert worker is not None
    worker.close()
    pid, value = worker.call(f"{__name__}:pid_and", value=1)
    assert pid == os.getpid() and value == 2


def test_close_reaps_the_child() -> None:
    worker = Worker.start(lambda: __import__("time").sleep(30))
    assert worker is not None
    pid = worker._pid
    worker.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_the_caller_never_imports_the_target_module() -> None:
    """The point of naming the target: botocore is imported in the child only."""
    import subprocess

    script = (
        "import sys\n"
        "from okenv.worker import start_sts_worker\n"
        "worker = start_sts_worker()\n"
        "worker.call('okenv.sts:warm_up')\n"
        "worker.close()\n"
        "print('okenv.sts' in sys.modules, 'botocore' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_not_used_on_one_cpu() -> None:
    """On one CPU nothing overlaps: no worker (checked in a child pinned to one CPU)."""
    import subprocess

    script = (
        "import os\n"
        "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "from okenv.worker import Worker\n"
        "print(Worker.start(lambda: None))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
