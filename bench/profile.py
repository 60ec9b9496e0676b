"""Where okenv's full login spends its time, measured in okenv's own environment (.venv):

* import cost of each heavy dependency, each alone in a fresh interpreter (median of 5);
* botocore: STS client creation, the JSON it loads for that, and the AssumeRoleWithSAML
  round trip to moto (first and second call);
* each HTTP round trip to the Okta org (okenv's own ``--debug`` trace);
* ``-X importtime`` of a whole login (self time summed per top-level package);
* pyinstrument of a whole login in-process (the main thread; the STS preload thread shows
  as the time the main thread waits for it), with self time attributed to the package of
  the innermost module being imported, or to the running package outside imports.

Writes bench/results/profile.json and bench/results/profile-login.txt.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.tools import PROFILE, PROJECT_BIN, ROOT

PYTHON = str(PROJECT_BIN / "python")
OKENV = str(PROJECT_BIN / "okenv")
REPEAT = 5

IMPORTS = [
    ("okenv.main", "the entry point (cached path)"),
    ("okenv.cli", "okenv's CLI: typer + okenv's light modules"),
    ("typer", "typer alone"),
    ("click", "click alone"),
    ("rich", "rich alone"),
    ("requests", "requests alone"),
    ("bs4", "BeautifulSoup alone"),
    ("mechanicalsoup", "MechanicalSoup (requests + bs4)"),
    ("okenv.login", "okenv.login (MechanicalSoup, requests, okenv.okta)"),
    ("botocore.session", "botocore.session"),
    ("okenv.sts", "okenv.sts (botocore + okenv)"),
    ("boto3", "boto3"),
    ("pyotp", "pyotp"),
    ("platformdirs", "platformdirs"),
]


def _py(code: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, *flags, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        stdin=subprocess.DEVNULL,
    )


def import_costs(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    code = (
        "import time; t = time.perf_counter(); import {m}; print((time.perf_counter() - t) * 1000)"
    )
    for module, what in IMPORTS:
        samples = []
        for _ in range(REPEAT):
            result = _py(code.format(m=module), env)
            if result.returncode != 0:
                samples = []
                out[module] = {"what": what, "error": result.stderr.strip()[-200:]}
                break
            samples.append(float(result.stdout.strip()))
        if samples:
            out[module] = {"what": what, "ms": round(statistics.median(samples), 1)}
    # What the login path avoids if it never imports typer (okenv.cli) at all.
    both = (
        "import time; t = time.perf_counter(); import okenv.login, okenv.cache, "
        "okenv.config, okenv.prompt; a = time.perf_counter(); import okenv.cli; "
        "print((a - t) * 1000, (time.perf_counter() - a) * 1000)"
    )
    pairs = [tuple(map(float, _py(both, env).stdout.split())) for _ in range(REPEAT)]
    if all(len(p) == 2 for p in pairs):
        out["typer_on_top_of_login"] = {
            "what": "import okenv.cli after the login modules are already imported",
            "ms": round(statistics.median(p[1] for p in pairs), 1),
        }
    modules = _py("import sys, okenv.cli; print(len(sys.modules))", env).stdout.strip()
    out["modules_after_okenv_cli"] = modules
    out["pydantic_loaded_by_cli"] = _py(
        "import sys, okenv.cli; print('pydantic' in sys.modules)", env
    ).stdout.strip()
    return out


_BOTO_CODE = r"""
import json, time, sys
t0 = time.perf_counter()
import okenv.sts as sts
t1 = time.perf_counter()
import botocore.loaders as L
loads = []
orig = L.JSONFileLoader.load_file
def load_file(self, path, *a, **k):
    t = time.perf_counter(); r = orig(self, path, *a, **k)
    loads.append((path.rsplit("/botocore/", 1)[-1], (time.perf_counter() - t) * 1000))
    return r
L.JSONFileLoader.load_file = load_file
t2 = time.perf_counter()
client = sts.sts_client("us-east-1")
t3 = time.perf_counter()
sts.sts_client("us-east-1")
t4 = time.perf_counter()
from tests.fakes.samlgen import build_saml_response
from bench.sandbox import ROLE_ARN, PROVIDER_ARN
calls = []
for _ in range(2):
    saml = build_saml_response(roles=[(ROLE_ARN, PROVIDER_ARN)], session_duration=3600)
    t = time.perf_counter()
    client.assume_role_with_saml(RoleArn=ROLE_ARN, PrincipalArn=PROVIDER_ARN,
                                 SAMLAssertion=saml, DurationSeconds=3600)
    calls.append((time.perf_counter() - t) * 1000)
print(json.dumps({
    "import_okenv_sts_ms": (t1 - t0) * 1000,
    "create_client_first_ms": (t3 - t2) * 1000,
    "create_client_again_ms": (t4 - t3) * 1000,
    "json_files_loaded_first_client": [p for p, _ in loads[: len(loads) // 2 or len(loads)]],
    "json_load_ms_total_both_clients": sum(ms for _, ms in loads),
    "json_loads_both_clients": len(loads),
    "assume_role_with_saml_first_ms": calls[0],
    "assume_role_with_saml_second_ms": calls[1],
}))
"""


def botocore_costs(env: dict[str, str]) -> dict[str, Any]:
    runs = []
    for _ in range(REPEAT):
        result = _py(_BOTO_CODE, {**env, "PYTHONPATH": str(ROOT)})
        if result.returncode != 0:
            return {"error": result.stderr.strip()[-400:]}
        runs.append(json.loads(result.stdout))
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, float | int):
            out[key] = round(statistics.median(r[key] for r in runs), 1)
        else:
            out[key] = value
    return out


_STEP = re.compile(r"(GET|POST) (\S+).*→ (\d+) \((\d+) ms\)")


def http_steps(env: dict[str, str]) -> dict[str, Any]:
    per_step: dict[str, list[float]] = {}
    totals = []
    for _ in range(REPEAT):
        shutil.rmtree(env["OKENV_CACHE_DIR"], ignore_errors=True)  # no Okta session to reuse
        result = subprocess.run(
            [OKENV, "login", PROFILE, "--debug"],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        steps = [m for m in map(_STEP.search, result.stderr.splitlines()) if m]
        if result.returncode != 0 or not steps:
            return {"error": result.stderr.strip()[-400:]}
        for n, m in enumerate(steps):
            path = re.sub(r"\?.*", "", m.group(2)).split("://", 1)[-1].split("/", 1)[-1]
            per_step.setdefault(f"{n + 1}. {m.group(1)} /{path}", []).append(float(m.group(4)))
        totals.append(sum(float(m.group(4)) for m in steps))
    return {
        "steps_ms": {k: statistics.median(v) for k, v in per_step.items()},
        "okta_total_ms": statistics.median(totals),
        "note": "okenv --debug trace: each request's time from send to answer headers",
    }


_DRIVER = r"""
import sys, time
t = time.perf_counter()
if MODE == "no-preload":
    import threading, okenv.login
    class _Done:
        def join(self):
            pass
    okenv.login._preload_sts = lambda: _Done()
from okenv.main import main
try:
    main(["credential-process", PROFILE])
except SystemExit:
    pass
sys.stderr.write("WALL %f\\n" % ((time.perf_counter() - t) * 1000))
"""


def preload_experiment(env: dict[str, str], cache: Path) -> dict[str, Any]:
    """The same full login with okenv's STS preload thread, and with it replaced by a no-op
    (boto3 then imports after Okta answered): does the thread pay on this machine?"""
    out: dict[str, list[float]] = {"as-is": [], "no-preload": []}
    for _ in range(REPEAT + 2):
        for mode in out:
            shutil.rmtree(cache, ignore_errors=True)
            code = f"MODE = {mode!r}; PROFILE = {PROFILE!r}\n" + _DRIVER
            result = _py(code, env)
            m = re.search(r"WALL ([0-9.]+)", result.stderr)
            if result.returncode != 0 or not m or '"AccessKeyId"' not in result.stdout:
                return {"error": result.stderr.strip()[-400:]}
            out[mode].append(float(m.group(1)))
    return {mode: round(statistics.median(v[2:]), 1) for mode, v in out.items()} | {
        "note": "in-process wall time of main() after interpreter start (ms), median"
    }


def cached_imports(env: dict[str, str]) -> dict[str, Any]:
    """What the cached `env` path imports: top-level imports by cumulative time (ms)."""
    per: dict[str, list[float]] = {}
    for _ in range(REPEAT):
        result = subprocess.run(
            [PYTHON, "-X", "importtime", OKENV, "env", PROFILE, "--shell", "bash"],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for line in result.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
            if m and len(m.group(3)) == 1:
                per.setdefault(m.group(4), []).append(int(m.group(2)) / 1000)
    med = {k: round(statistics.median(v), 1) for k, v in per.items()}
    return {
        "top_level_cumulative_ms": dict(sorted(med.items(), key=lambda kv: -kv[1])[:15]),
        "okenv_modules": sorted(k for k in per if k.startswith("okenv")),
        "note": "-X importtime adds its own overhead; compare entries with each other",
    }


def importtime(env: dict[str, str], cache: Path) -> dict[str, Any]:
    shutil.rmtree(cache, ignore_errors=True)
    result = subprocess.run(
        [PYTHON, "-X", "importtime", OKENV, "credential-process", PROFILE],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    per_package: dict[str, float] = {}
    count = 0
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s+)(\S+)", line)
        if not m:
            continue
        count += 1
        root = m.group(4).split(".")[0]
        per_package[root] = per_package.get(root, 0.0) + int(m.group(1)) / 1000
    top = sorted(per_package.items(), key=lambda kv: -kv[1])[:20]
    return {
        "modules_imported": count,
        "self_ms_by_package": {k: round(v, 1) for k, v in top},
        "self_ms_total": round(sum(per_package.values()), 1),
        "note": "self times summed per top-level package; the STS preload thread imports "
        "botocore concurrently, so its lines interleave with the main thread's",
    }


_PYI_CODE = r"""
import sys, json
sys.path.insert(0, PYI_DIR)
from pyinstrument import Profiler

def login():
    from okenv.main import main
    try:
        main(["credential-process", PROFILE])
    except SystemExit:
        pass

profiler = Profiler(interval=0.001)
profiler.start()
login()
session = profiler.stop()
with open(TXT, "w") as f:
    f.write(profiler.output_text(unicode=True, color=False, show_all=False, timeline=False))

root = session.root_frame()
SITE = "/site-packages/"
def package(path):
    if not path:
        return "?"
    if SITE in path:
        return path.split(SITE, 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/okenv/" in path:
        return "okenv"
    if "importlib" in path:
        return "import machinery"
    return "stdlib:" + path.rsplit("/", 1)[-1].removesuffix(".py")

acc = {}
def walk(frame, owner, parent="run okenv"):
    f = frame.function or ""
    p = frame.file_path or ""
    if f == "<module>" and p != "<string>":
        owner = "import " + package(p)
    if "join" in f and "threading" in p:
        label = "wait for the STS preload thread"
        acc[label] = acc.get(label, 0.0) + frame.time
        return
    label = owner if owner else ("run " + package(p) if p else parent)
    own = frame.time - sum(child.time for child in frame.children)
    acc[label] = acc.get(label, 0.0) + max(own, 0.0)
    for child in frame.children:
        walk(child, owner, label)
walk(root, None)
print(json.dumps({"total_ms": root.time * 1000,
                  "by_label_ms": {k: round(v * 1000, 1) for k, v in
                                  sorted(acc.items(), key=lambda kv: -kv[1]) if v > 0.002}}))
"""


def pyinstrument(env: dict[str, str], cache: Path, work: Path, txt: Path) -> dict[str, Any]:
    pyi = work / "pyinstrument-only"
    if not (pyi / "pyinstrument").exists():
        pyi.mkdir(parents=True, exist_ok=True)
        import pyinstrument as _p

        (pyi / "pyinstrument").symlink_to(Path(_p.__file__).parent)
    shutil.rmtree(cache, ignore_errors=True)
    code = f"PYI_DIR = {str(pyi)!r}; PROFILE = {PROFILE!r}; TXT = {str(txt)!r}\n" + _PYI_CODE
    with tempfile.TemporaryDirectory():
        result = _py(code, env)
    if result.returncode != 0:
        return {"error": result.stderr.strip()[-600:]}
    last = result.stdout.strip().splitlines()[-1]
    return json.loads(last)


def run(env: dict[str, str], results: Path, work: Path) -> None:
    print("bench: profiling okenv's full login (imports, botocore, HTTP, pyinstrument)", flush=True)
    cache = Path(env["OKENV_CACHE_DIR"])
    doc = {
        "imports_ms": import_costs(env),
        "botocore": botocore_costs(env),
        "okta_http": http_steps(env),
        "preload_thread": preload_experiment(env, cache),
        "cached_env_imports": cached_imports(env),
        "importtime": importtime(env, cache),
        "pyinstrument": pyinstrument(env, cache, work, results / "profile-login.txt"),
    }
    (results / "profile.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))
    print(f"bench: wrote {results.relative_to(ROOT)}/profile.json, profile-login.txt", flush=True)
