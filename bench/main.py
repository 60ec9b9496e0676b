"""The benchmark run (inside .bench/venv; see bench/__main__.py for the steps)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import measure, report, sandbox, tools
from bench.tools import PROJECT_BIN, ROOT, Case

WORK = ROOT / ".bench"
RESULTS = ROOT / "bench" / "results"
WARMUP = 2
BYTECODE_NOTE = (
    "PYTHONDONTWRITEBYTECODE is unset for every tool and every venv's bytecode cache is "
    "warmed (compileall + warm-up runs): this machine sets it, which would recompile every "
    "module on every start"
)


def _version(python: Path, dist: str) -> str:
    result = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or "?"


def _compile(python: Path, paths: list[Path], env: dict[str, str]) -> None:
    existing = [str(p) for p in paths if p.exists()]
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j", "0", *existing],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _site_packages(bin_dir: Path) -> Path:
    return next((bin_dir.parent / "lib").glob("python3*/site-packages"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "11")))
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="only profile okenv's login (no peers, no table)",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="logins through a latency proxy at several RTTs (latency_run.py)",
    )
    parser.add_argument(
        "--rtts",
        default="0,50,150",
        help="with --latency: round-trip times in ms (default 0,50,150)",
    )
    args = parser.parse_args(argv)
    runs = max(7, args.runs)
    started = time.monotonic()

    if not (PROJECT_BIN / "okenv").exists():
        print("bench: .venv/bin/okenv is missing; run `make bench` (it installs .venv first)")
        return 2
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)

    # -- the peers, each in its own venv
    unavailable: dict[str, str] = {}
    peer_bins: dict[str, Path] = {}
    for name in tools.PEERS:
        if args.skip_peers or args.profile_only:
            unavailable[name] = "skipped (--skip-peers)"
            continue
        print(f"bench: {name}: installing into .bench/peers/{name} if needed", flush=True)
        bin_dir, error = tools.install_peer(name, WORK, WORK / "install.log")
        if bin_dir is None:
            unavailable[name] = error or "install failed"
        else:
            peer_bins[name] = bin_dir

    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print("bench: warming bytecode caches (compileall)", flush=True)
    _compile(PROJECT_BIN / "python", [_site_packages(PROJECT_BIN), ROOT / "okenv"], clean_env)
    for bin_dir in peer_bins.values():
        _compile(bin_dir / "python", [_site_packages(bin_dir)], clean_env)

    if args.latency:
        from bench import latency_run

        latency_run.reexec_in_namespace(argv)
        rtts = [int(x) / 1000 for x in args.rtts.split(",") if x.strip()]
        return latency_run.run(argv, peer_bins, unavailable, max(3, args.runs), rtts)

    ca_crt, crt, key = sandbox.make_ca(WORK)
    run_dir = WORK / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()

    with sandbox.okta_over_https(ca_crt, crt, key) as okta, sandbox.moto_sts(WORK) as moto:
        print(
            f"bench: fake Okta org at {okta.url} (TLS, throwaway CA), moto STS at {moto.url}",
            flush=True,
        )

        def home(name: str) -> tuple[Path, dict[str, str]]:
            path = run_dir / name
            path.mkdir()
            return path, sandbox.base_env(ca_crt, moto.url, path)

        okenv_home, okenv_env = home("okenv")
        floor_json = okenv_home / "cached-credentials.json"
        cases: list[Case] = tools.okenv_cases(
            okenv_env, okenv_home, okta.app_url, floor_json, PROJECT_BIN / "python"
        )
        okenv_run_env = cases[0].env  # with OKENV_CONFIG, OKENV_CACHE_DIR, secrets
        login_cases: list[Case] = [cases.pop(0)]
        if "gimme-aws-creds" in peer_bins:
            h, env = home("gimme-aws-creds")
            login_cases.append(
                tools.gimme_case(peer_bins["gimme-aws-creds"], env, h, okta.url, okta.app_url)
            )
        if "tokendito" in peer_bins:
            h, env = home("tokendito")
            login_cases.append(tools.tokendito_case(peer_bins["tokendito"], env, h, okta.app_url))
        cases = login_cases + cases

        if args.profile_only:
            from bench import profile

            profile.run(okenv_run_env, RESULTS, WORK)
            return 0

        errors: dict[str, str] = {}

        def one(case: Case) -> measure.Run | None:
            extra = case.prepare()
            okta.reset_log()
            result = measure.run(case.argv, {**case.env, **extra})
            problem = case.check(result.stdout, result.stderr, result.returncode)
            if problem:
                errors.setdefault(case.key, problem)
                return None
            if case.key == "okenv.login" and not floor_json.exists():
                floor_json.write_text(result.stdout)
            return result

        print(f"bench: warm-up ({WARMUP} runs per case)", flush=True)
        for _ in range(WARMUP):
            for case in cases:
                if case.key not in errors:
                    one(case)
        if not floor_json.exists():  # okenv could not log in: the floor still has a file
            floor_json.write_text(
                json.dumps(
                    {
                        "Version": 1,
                        "AccessKeyId": "ASIA0000000000000000",
                        "SecretAccessKey": "x" * 40,
                        "SessionToken": "y" * 400,
                        "Expiration": "2099-01-01T00:00:00Z",
                    }
                )
            )
        for key, problem in errors.items():
            print(f"bench: {key} could not run: {problem}", flush=True)

        samples = {c.key: (measure.Stats(), measure.Stats(), []) for c in cases}
        paths: dict[str, list[str]] = {}
        print(f"bench: measuring ({runs} runs per case, round-robin)", flush=True)
        for _ in range(runs):
            for case in cases:
                if case.key in errors:
                    continue
                result = one(case)
                if result is None:
                    continue
                seconds, rss, requests = samples[case.key]
                seconds.add(result.seconds)
                rss.add(result.max_rss_kib / 1024)
                if case.counts_requests:
                    logged = okta.requests
                    requests.append(len(logged))
                    paths[case.key] = [f"{r.method} {r.path} → {r.status}" for r in logged]

        results: dict[str, Any] = {}
        for name, why in unavailable.items():
            key = "gimme.login" if name == "gimme-aws-creds" else "tokendito.login"
            results[key] = {
                "key": key,
                "tool": name,
                "label": "full login",
                "group": "login",
                "error": why,
            }
        for case in cases:
            seconds, rss, requests = samples[case.key]
            entry: dict[str, Any] = {
                "key": case.key,
                "tool": case.tool,
                "label": case.label,
                "group": case.group,
                "argv": [Path(case.argv[0]).name, *case.argv[1:]],
            }
            if case.key in errors and not seconds.samples:
                entry["error"] = errors[case.key]
            else:
                entry["seconds"] = seconds.summary()
                entry["max_rss_mib"] = rss.summary()
                if case.key in errors:
                    entry["failed_runs_note"] = errors[case.key]
                if requests:
                    entry["requests"] = sorted(requests)[len(requests) // 2]
                    entry["request_log"] = paths.get(case.key, [])
            results[case.key] = entry
        order = [
            "okenv.login",
            "gimme.login",
            "tokendito.login",
            "okenv.env",
            "okenv.use",
            "okenv.exec",
            "okenv.credential_process",
            "okenv.complete",
            "floor.script",
            "floor.pass",
        ]
        results = {k: results[k] for k in order if k in results}

        verdicts = report.budgets(results)
        print()
        print(report.table(results))
        print()
        for v in verdicts:
            print(f"  {report.verdict_text(v):<44} {v['budget']}")
        print(f"\nbench: {BYTECODE_NOTE}.")

        versions = {
            "python": platform.python_version(),
            "okenv": _version(PROJECT_BIN / "python", "okenv"),
            **{name: _version(b / "python", name) for name, b in peer_bins.items()},
            "moto": _version(Path(sys.executable), "moto"),
        }
        doc = {
            "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": {
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "processor": platform.processor() or platform.machine(),
            },
            "versions": versions,
            "method": {
                "runs": runs,
                "warmup": WARMUP,
                "order": "round-robin over cases",
                "timing": "wall clock from fork to reap of the child (perf_counter)",
                "rss": "ru_maxrss of the child from wait4 (MiB), median over runs",
                "requests": "requests logged by the fake Okta org per login (median)",
                "bytecode": BYTECODE_NOTE,
                "sandbox": "fake Okta org (tests/fakes/okta.py) over HTTPS on 127.0.0.1:443 "
                "with a throwaway openssl CA via REQUESTS_CA_BUNDLE; moto STS "
                "server; HTTP(S)_PROXY to a dead loopback port, NO_PROXY loopback; "
                "AWS_EC2_METADATA_DISABLED; temp AWS config files and HOME per tool",
            },
            "results": results,
            "budgets": verdicts,
        }
        subtitle = (
            f"median of {runs} runs after {WARMUP} warm-up runs; "
            f"Python {versions['python']}, {os.cpu_count()} CPUs; "
            + ", ".join(f"{k} {v}" for k, v in versions.items() if k != "python")
        )
        report.write_json(RESULTS / "bench.json", doc)
        (RESULTS / "bench.md").write_text(
            f"<!-- generated by `make bench` on {doc['generated']}; {subtitle} -->\n"
            + report.markdown(results, verdicts)
            + "\n"
        )
        report.chart(results, verdicts, RESULTS / "bench.png", subtitle)
        print(
            f"bench: wrote {RESULTS.relative_to(ROOT)}/bench.json, bench.md, bench.png", flush=True
        )

        if not args.no_profile:
            from bench import profile

            profile.run(okenv_run_env, RESULTS, WORK)

    print(f"bench: done in {time.monotonic() - started:.0f} s; servers stopped", flush=True)
    return 0
