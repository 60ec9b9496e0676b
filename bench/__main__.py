"""``make bench`` / ``python -m bench``: okenv against gimme-aws-creds and tokendito on one
local sandbox (fake Okta org over HTTPS on 127.0.0.1:443, moto's STS server).

Steps: create the bench's own venv (.bench/venv) and the peers' venvs (.bench/peers/*) if
needed; start the servers; warm every tool up; measure every case round-robin; print the
table and the budget verdicts; write bench/results/bench.json and bench.png; profile
okenv's full login (bench/results/profile.json, profile-login.txt); stop the servers.

Options: --runs N (measured runs per case, default 11, at least 7), --no-profile,
--skip-peers (okenv and the floor only).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench"
BENCH_VENV = WORK / "venv"
REQUIREMENTS = ROOT / "bench" / "requirements.txt"


def _bootstrap() -> None:
    """Re-run this module inside .bench/venv, creating it (stdlib only up to here)."""
    python = BENCH_VENV / "bin" / "python"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    stamp = BENCH_VENV / f".installed-{digest}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "PYTHONPATH")
    }
    if not stamp.exists():
        print(f"bench: setting up {BENCH_VENV.relative_to(ROOT)} (once)", flush=True)
        WORK.mkdir(exist_ok=True)
        if not python.exists():
            venv.create(BENCH_VENV, with_pip=True)
        log = WORK / "install.log"
        with log.open("ab") as out:
            result = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-r",
                    str(REQUIREMENTS),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        if result.returncode != 0:
            sys.exit(f"bench: installing {REQUIREMENTS.name} failed; see {log}")
        for old in BENCH_VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()
    env["PYTHONPATH"] = str(ROOT)
    os.chdir(ROOT)
    os.execve(str(python), [str(python), "-m", "bench", *sys.argv[1:]], env)


if Path(sys.prefix).resolve() != BENCH_VENV.resolve():
    _bootstrap()

from bench.main import main  # noqa: E402  (inside .bench/venv from here on)

sys.exit(main(sys.argv[1:]))
