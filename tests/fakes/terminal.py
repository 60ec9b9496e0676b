"""A person at a terminal, for ``make demo``: an interactive bash on a pty (stdlib ``pty``,
no test toolchain), commands typed into it as a user would, prompts answered when they
appear, and everything the terminal shows copied to our stdout as it arrives.

Every wait has a deadline: a prompt that never comes ends the demo with what was seen.
"""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from collections.abc import Callable, Mapping, Sequence

Answer = Callable[[], str]


class Terminal:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], prompt: str) -> None:
        self.prompt = re.compile(re.escape(prompt) + r"$")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the shell
            os.execvpe(argv[0], list(argv), dict(env))
        self.seen = ""

    def _read(self, deadline: float) -> str:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return ""
        try:
            data = os.read(self.fd, 4096).decode("utf-8", "replace")
        except OSError:  # the shell is gone
            data = ""
        if not data:
            raise EOFError
        sys.stdout.write(data)
        sys.stdout.flush()
        return data

    def wait(self, answers: Mapping[str, Answer], timeout: float = 30) -> None:
        """Read until the shell prompt, typing an answer whenever one of ``answers``' labels
        ends what the terminal shows."""
        deadline = time.monotonic() + timeout
        tail = ""
        while time.monotonic() < deadline:
            tail = (tail + self._read(deadline))[-400:]
            if self.prompt.search(tail):
                return
            for label, answer in answers.items():
                if tail.endswith(label):
                    os.write(self.fd, (answer() + "\r").encode())
                    tail = ""
        raise TimeoutError(f"no shell prompt within {timeout:g} s")

    def type(self, command: str, answers: Mapping[str, Answer]) -> None:
        """Type ``command`` (the shell echoes it, as it would for a user) and wait for the
        next prompt."""
        os.write(self.fd, (command + "\r").encode())
        self.wait(answers)

    def close(self) -> int:
        os.write(self.fd, b"exit\r")
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                self._read(deadline)
        except EOFError:
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)
