"""``make bench-latency`` / ``python -m bench --latency``: logins through real round trips.

Every tool reaches the fake Okta org (HTTPS, end-to-end TLS) and STS (HTTPS, as real STS
is) through :class:`bench.latency.DelayProxy`, at several RTTs (default 0, 50 and 150 ms),
inside a private network namespace where the machine allows it (``unshare --net`` with its
own loopback; the machine's loopback settings are never touched). For each tool and case:
TCP connections, TLS handshakes, requests (and redirects), the sequential round trips on the
critical path (from the proxy's timeline, see :func:`bench.latency.analyse`), and the
median wall time of interleaved runs, with okenv's ratio to each peer.

Topology (all on 127.0.0.1 in the namespace):

    tool ─▶ :443 DelayProxy ─▶ fake Okta org (TLS)             one role: every tool
    tool ─▶ DelayProxy ─▶ TlsTerminator ─▶ moto STS (HTTP)       AssumeRoleWithSAML/AssumeRole
    okenv ─▶ :443 DelayProxy ─▶ multi-role fake org (TLS)        the alias-page case
    okenv ─▶ DelayProxy ─▶ fake AWS sign-in page (TLS)           account aliases
    okenv ─▶ DelayProxy ─▶ TlsTerminator ─▶ okenv's fake STS     multi-role assertions
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import latency, measure, sandbox, tools
from bench.tools import PROJECT_BIN, ROOT, Case
from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME
from tests.fakes.signin import FakeSignin
from tests.fakes.sts import FakeSts

WORK = ROOT / ".bench"
RESULTS = ROOT / "bench" / "results"
NETNS_MARK = "OKENV_BENCH_NETNS"
PUBLIC_OKTA = "https://127.0.0.1"

PROVIDER_A = "arn:aws:iam::123456789012:saml-provider/Okta"
PROVIDER_B = "arn:aws:iam::210987654321:saml-provider/Okta"
MULTI_ROLES = [
    ("arn:aws:iam::123456789012:role/Admin", PROVIDER_A),
    ("arn:aws:iam::210987654321:role/Developer", PROVIDER_B),
    ("arn:aws:iam::123456789012:role/ReadOnly", PROVIDER_A),
]
ALIASES = {"123456789012": "prod-main"}

# Sequential round trips each okenv case may take (issue 13's budgets), and its floor.
ROUND_TRIP_BUDGETS = {
    "okenv.full": ("full login", 6),
    "okenv.session": ("Okta session reused", 4),
    "okenv.chain": ("role chaining", 7),
    "okenv.alias": ("multi-role, alias page (floor 7, +1 allowed)", 8),
}
PEER_RATIO_AT_150 = 0.4


def in_namespace() -> bool:
    return os.environ.get(NETNS_MARK) == "1"


def reexec_in_namespace(argv: list[str]) -> None:
    """Run the latency bench again inside a new network namespace with its own loopback,
    if the machine allows it (root, or unprivileged user namespaces); else carry on here."""
    if in_namespace() or os.environ.get("BENCH_NO_NETNS") or shutil.which("unshare") is None:
        return
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        print(
            "bench: no private network namespace here (unshare refused); using the "
            "machine's loopback",
            flush=True,
        )
        return
    env = {**os.environ, NETNS_MARK: "1"}
    script = 'ip link set lo up 2>/dev/null || true; exec "$@"'
    os.execvpe(
        "unshare",
        ["unshare", "--net", "sh", "-c", script, "sh", sys.executable, "-m", "bench", *argv],
        env,
    )


@dataclass
class Net:
    """The servers and proxies of a run."""

    runner: latency._Loop
    log: latency.Log
    plain: latency.Log
    okta_proxy: latency.DelayProxy
    proxies: list[latency.DelayProxy] = field(default_factory=list)
    single_okta: Any = None
    multi_okta: Any = None
    fake_sts: FakeSts | None = None
    moto_url: str = ""
    fake_sts_url: str = ""
    signin_url: str = ""
    okta_ports: dict[str, int] = field(default_factory=dict)

    def set_rtt(self, rtt: float) -> None:
        for proxy in self.proxies:
            proxy.rtt = rtt

    def use_org(self, which: str) -> None:
        self.okta_proxy.target = ("127.0.0.1", self.okta_ports[which])


@contextlib.contextmanager
def network(ca_crt: Path, crt: Path, key: Path) -> Iterator[Net]:
    context = sandbox.server_context(crt, key)
    log, plain = latency.Log(), latency.Log()
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(latency.loop())
        single = sandbox.bench_okta(PUBLIC_OKTA)
        single.ssl_context = context
        single.start()
        stack.callback(single.stop)
        multi = sandbox.bench_okta(PUBLIC_OKTA, roles=MULTI_ROLES)
        multi.ssl_context = context
        multi.start()
        stack.callback(multi.stop)

        okta_proxy = latency.DelayProxy(
            runner, "okta", ("127.0.0.1", single.port), log, listen_port=sandbox.OKTA_PORT
        )
        try:
            okta_proxy.start()
        except OSError as exc:
            raise SystemExit(
                f"bench: cannot listen on 127.0.0.1:{sandbox.OKTA_PORT}: {exc}"
            ) from None
        stack.callback(okta_proxy.stop)
        net = Net(
            runner,
            log,
            plain,
            okta_proxy,
            [okta_proxy],
            single,
            multi,
            okta_ports={"single": single.port, "multi": multi.port},
        )

        def https_front(name: str, http_port: int) -> str:
            terminator = latency.TlsTerminator(
                runner, name + "-tls", ("127.0.0.1", http_port), context, plain
            )
            terminator.start()
            stack.callback(terminator.stop)
            proxy = latency.DelayProxy(runner, name, ("127.0.0.1", terminator.port), log)
            proxy.start()
            stack.callback(proxy.stop)
            net.proxies.append(proxy)
            return f"https://127.0.0.1:{proxy.port}"

        moto = stack.enter_context(sandbox.moto_sts(WORK))
        net.moto_url = https_front("sts", int(moto.url.rsplit(":", 1)[1]))
        fake_sts = FakeSts().start()
        stack.callback(fake_sts.stop)
        net.fake_sts = fake_sts
        net.fake_sts_url = https_front("sts2", int(fake_sts.url.rsplit(":", 1)[1]))

        signin = FakeSignin(aliases=ALIASES, sts=fake_sts)
        signin.ssl_context = context
        signin.start()
        stack.callback(signin.stop)
        signin_proxy = latency.DelayProxy(runner, "signin", ("127.0.0.1", signin.port), log)
        signin_proxy.start()
        stack.callback(signin_proxy.stop)
        net.proxies.append(signin_proxy)
        net.signin_url = f"https://127.0.0.1:{signin_proxy.port}"
        yield net


@dataclass
class LCase:
    case: Case
    org: str = "single"  # which fake org the :443 proxy points at


def okenv_cases(net: Net, ca_crt: Path, run_dir: Path) -> list[LCase]:
    home = run_dir / "okenv"
    home.mkdir()
    env = sandbox.base_env(ca_crt, net.moto_url, home)
    env["AWS_CA_BUNDLE"] = str(ca_crt)
    config = home / "okenv.toml"
    app = f"{PUBLIC_OKTA}/home/amazon_aws/{net.single_okta.app_instance}/272"
    config.write_text(f"""[defaults]
app_url  = "{app}"
username = "{DEFAULT_USERNAME}"
factor   = "totp"
region   = "us-east-1"

[profiles.full]
role = "{sandbox.ROLE_ARN}"

[profiles.chain]
role = "{sandbox.ROLE_ARN}"
assume_role = "arn:aws:iam::123456789012:role/Deploy"

[profiles.alias]
role = "prod-main/Admin"
""")
    cache = home / "cache"
    snapshot = home / "cache-after-login"
    env.update(tools.okenv_settings(config, cache))
    alias_env = {
        **env,
        "AWS_ENDPOINT_URL_STS": net.fake_sts_url,
        "OKENV_AWS_SIGNIN_URL": net.signin_url,
    }
    # moto's server closes every connection after one answer (Connection: close), which
    # real STS does not; chaining (two STS calls) goes to okenv's fake STS, which keeps
    # connections alive as AWS does.
    chain_env = {**env, "AWS_ENDPOINT_URL_STS": net.fake_sts_url}
    okenv = str(PROJECT_BIN / "okenv")

    def empty() -> dict[str, str]:
        shutil.rmtree(cache, ignore_errors=True)
        return {}

    def keep(kinds: set[str]) -> Callable[[], dict[str, str]]:
        """Restore the cache as a full login left it, keeping only documents of ``kinds``
        (classified by content, so a new file layout needs no change here)."""

        def prepare() -> dict[str, str]:
            shutil.rmtree(cache, ignore_errors=True)
            if not snapshot.exists():
                return {}
            shutil.copytree(snapshot, cache)
            for path in cache.rglob("*.json"):
                if _kind(path) not in kinds:
                    path.unlink()
            return {}

        return prepare

    def check(out: str, err: str, rc: int) -> str | None:
        if rc != 0:
            return f"exit code {rc}: {' | '.join(err.strip().splitlines()[-4:])}"
        if not snapshot.exists() and cache.exists():
            shutil.copytree(cache, snapshot)
        return None if '"SessionToken"' in out else f"no credentials on stdout: {out[:100]!r}"

    def case(
        key: str,
        label: str,
        profile: str,
        prepare: Callable[[], dict[str, str]],
        environ: dict[str, str],
    ) -> Case:
        return Case(
            key,
            "okenv",
            label,
            [okenv, "credential-process", profile],
            environ,
            "login",
            prepare=prepare,
            check=check,
            counts_requests=True,
        )

    return [
        LCase(case("okenv.full", "full login (empty cache)", "full", empty, env)),
        LCase(case("okenv.engine", "engine known", "full", keep({"engine", "memory"}), env)),
        LCase(
            case(
                "okenv.session",
                "Okta session reused",
                "full",
                keep({"engine", "memory", "session"}),
                env,
            )
        ),
        LCase(case("okenv.chain", "role chaining (empty cache)", "chain", empty, chain_env)),
        LCase(
            case("okenv.alias", "multi-role, alias page (empty cache)", "alias", empty, alias_env),
            org="multi",
        ),
    ]


def _kind(path: Path) -> str:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return "other"
    if not isinstance(doc, dict):
        return "other"
    if "credentials" in doc:
        return "credentials"
    if "engine" in doc:
        return "engine"
    if "aliases" in doc or "durations" in doc or path.name.startswith("aws-memory"):
        return "memory"
    return "session"


def reference_case(net: Net, ca_crt: Path, run_dir: Path) -> LCase:
    home = run_dir / "reference"
    home.mkdir()
    env = sandbox.base_env(ca_crt, net.moto_url, home)
    env.update(
        REF_CA=str(ca_crt),
        REF_STS_URL=net.moto_url,
        REF_APP_URL=f"{PUBLIC_OKTA}/home/amazon_aws/{net.single_okta.app_instance}/272",
        REF_USERNAME=DEFAULT_USERNAME,
        REF_PASSWORD=DEFAULT_PASSWORD,
        REF_TOTP=DEFAULT_TOTP_SECRET,
        REF_ROLE=sandbox.ROLE_ARN,
        REF_PROVIDER=sandbox.PROVIDER_ARN,
    )

    def check(out: str, err: str, rc: int) -> str | None:
        return None if rc == 0 and '"SessionToken"' in out else f"exit {rc}: {err[-200:]}"

    return LCase(
        Case(
            "reference.full",
            "reference",
            "stdlib client at the floor",
            [sys.executable, str(ROOT / "bench" / "refclient.py")],
            env,
            "login",
            check=check,
            counts_requests=True,
        )
    )


def peer_cases(net: Net, ca_crt: Path, run_dir: Path, peer_bins: dict[str, Path]) -> list[LCase]:
    cases: list[LCase] = []
    app = f"{PUBLIC_OKTA}/home/amazon_aws/{net.single_okta.app_instance}/272"
    for name, bin_dir in peer_bins.items():
        home = run_dir / name
        home.mkdir()
        env = sandbox.base_env(ca_crt, net.moto_url, home)
        env["AWS_CA_BUNDLE"] = str(ca_crt)
        if name == "gimme-aws-creds":
            cases.append(LCase(tools.gimme_case(bin_dir, env, home, PUBLIC_OKTA, app)))
        else:
            cases.append(LCase(tools.tokendito_case(bin_dir, env, home, app)))
    return cases


def run(
    argv_rest: list[str],
    peer_bins: dict[str, Path],
    unavailable: dict[str, str],
    runs: int,
    rtts: list[float],
) -> int:
    ca_crt, crt, key = sandbox.make_ca(WORK)
    run_dir = WORK / "run-latency"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    namespace = in_namespace()
    with network(ca_crt, crt, key) as net:
        cases = [
            *okenv_cases(net, ca_crt, run_dir),
            reference_case(net, ca_crt, run_dir),
            *peer_cases(net, ca_crt, run_dir, peer_bins),
        ]
        samples: dict[tuple[str, float], list[dict[str, Any]]] = {}
        errors: dict[str, str] = {}

        def one(lcase: LCase, rtt: float) -> dict[str, Any] | None:
            case = lcase.case
            extra = case.prepare()
            net.use_org(lcase.org)
            for org in (net.single_okta, net.multi_okta):
                org.reset_log()
            net.log.take()
            net.plain.take()
            result = measure.run(case.argv, {**case.env, **extra})
            opened, chunks = net.log.take()
            _, plain_chunks = net.plain.take()
            problem = case.check(result.stdout, result.stderr, result.returncode)
            if problem:
                errors.setdefault(case.key, problem)
                return None
            org = net.single_okta if lcase.org == "single" else net.multi_okta
            okta_requests = org.requests
            counts = latency.analyse(opened, chunks, rtt, plain_chunks)
            counts["okta_requests"] = len(okta_requests)
            counts["redirects"] = sum(1 for r in okta_requests if 300 <= r.status < 400)
            counts["seconds"] = result.seconds
            counts["okta_log"] = [f"{r.method} {r.path} → {r.status}" for r in okta_requests]
            return counts

        for rtt in rtts:
            net.set_rtt(rtt)
            print(f"bench: RTT {rtt * 1000:.0f} ms: warm-up", flush=True)
            for lcase in cases:
                if lcase.case.key not in errors:
                    one(lcase, rtt)
            print(f"bench: RTT {rtt * 1000:.0f} ms: {runs} runs per case, round-robin", flush=True)
            for _ in range(runs):
                for lcase in cases:
                    if lcase.case.key in errors:
                        continue
                    counts = one(lcase, rtt)
                    if counts is not None:
                        samples.setdefault((lcase.case.key, rtt), []).append(counts)
        for key, problem in errors.items():
            print(f"bench: {key} could not run: {problem}", flush=True)

    doc = summarise(cases, samples, errors, unavailable, rtts, runs, namespace)
    write(doc)
    print(markdown(doc))
    return 0


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def summarise(
    cases: list[LCase],
    samples: dict[tuple[str, float], list[dict[str, Any]]],
    errors: dict[str, str],
    unavailable: dict[str, str],
    rtts: list[float],
    runs: int,
    namespace: bool,
) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for lcase in cases:
        case = lcase.case
        per_rtt: dict[str, Any] = {}
        for rtt in rtts:
            got = samples.get((case.key, rtt), [])
            if not got:
                continue
            entry = {
                "median_seconds": _median([g["seconds"] for g in got]),
                "seconds": [g["seconds"] for g in got],
                "connections": _median([g["connections"] for g in got]),
                "tls_handshakes": _median([g["tls_handshakes"] for g in got]),
                "okta_requests": _median([g["okta_requests"] for g in got]),
                "redirects": _median([g["redirects"] for g in got]),
                "sts_requests": _median([g["plaintext_requests"] for g in got]),
                "okta_log": got[-1]["okta_log"],
            }
            if rtt > 0:
                entry["sequential_round_trips"] = _median(
                    [g["sequential_round_trips"] for g in got]
                )
            per_rtt[f"{rtt * 1000:.0f}"] = entry
        zero = per_rtt.get("0", {}).get("median_seconds")
        for label, entry in per_rtt.items():
            if label != "0" and zero is not None:
                entry["round_trips_from_wall_time"] = round(
                    (entry["median_seconds"] - zero) / (int(label) / 1000), 1
                )
        rows[case.key] = {
            "tool": case.tool,
            "label": case.label,
            "rtt_ms": per_rtt,
            **({"error": errors[case.key]} if case.key in errors else {}),
        }
    for name, why in unavailable.items():
        rows[f"{name}.login"] = {"tool": name, "label": "full login", "error": why}

    budgets: list[dict[str, Any]] = []
    top = f"{max(rtts) * 1000:.0f}"
    for key, (label, limit) in ROUND_TRIP_BUDGETS.items():
        got = rows.get(key, {}).get("rtt_ms", {}).get(top, {}).get("sequential_round_trips")
        budgets.append(
            {
                "budget": f"{label}: ≤ {limit} sequential round trips",
                "value": got,
                "pass": got is not None and got <= limit,
            }
        )
    okenv_top = rows.get("okenv.full", {}).get("rtt_ms", {}).get("150", {}).get("median_seconds")
    for peer in ("gimme.login", "tokendito.login"):
        peer_top = rows.get(peer, {}).get("rtt_ms", {}).get("150", {}).get("median_seconds")
        ratio = okenv_top / peer_top if okenv_top and peer_top else None
        budgets.append(
            {
                "budget": f"full login at 150 ms: ≤ {PEER_RATIO_AT_150}× {peer}",
                "value": None if ratio is None else round(ratio, 3),
                "pass": ratio is not None and ratio <= PEER_RATIO_AT_150,
            }
        )
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": {
            "runs": runs,
            "rtts_ms": [round(r * 1000) for r in rtts],
            "network": (
                "a private network namespace (unshare --net), its own loopback"
                if namespace
                else "the machine's loopback"
            ),
            "delay": "each chunk delayed RTT/2 in each direction; a connection's first "
            "client bytes leave no earlier than accept + RTT (TCP setup)",
            "round_trips": "union of the client's wait intervals (connection setup, each "
            "request/answer exchange) over all connections ÷ RTT",
            "tls": "end to end to the fake Okta org and the sign-in page; to STS through a "
            "TLS terminator in front of moto / okenv's fake STS (after the delay)",
        },
        "results": rows,
        "budgets": budgets,
    }


def markdown(doc: dict[str, Any]) -> str:
    rtts = [str(r) for r in doc["method"]["rtts_ms"]]
    head = (
        "| tool | case | "
        + " | ".join(f"{r} ms" for r in rtts)
        + f" | round trips @{rtts[-1]} ms | TCP | TLS | Okta req. | redirects | STS req. |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in doc["results"].values():
        if "rtt_ms" not in row:
            lines.append(f"| {row['tool']} | {row['label']} | could not run: {row['error']} |")
            continue
        cells = [
            f"{row['rtt_ms'][r]['median_seconds']:.2f} s" if r in row["rtt_ms"] else "–"
            for r in rtts
        ]
        top = row["rtt_ms"].get(rtts[-1], {})
        lines.append(
            f"| {row['tool']} | {row['label']} | "
            + " | ".join(cells)
            + f" | {top.get('sequential_round_trips', '–')}"
            f" ({top.get('round_trips_from_wall_time', '–')} by wall time)"
            f" | {top.get('connections', '–')} | {top.get('tls_handshakes', '–')}"
            f" | {top.get('okta_requests', '–')} | {top.get('redirects', '–')}"
            f" | {top.get('sts_requests', '–')} |"
        )
    lines.append("")
    for verdict in doc["budgets"]:
        lines.append(
            f"- {'PASS' if verdict['pass'] else 'FAIL'} {verdict['budget']} "
            f"(measured: {verdict['value']})"
        )
    return "\n".join(lines)


def write(doc: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latency.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "latency.md").write_text(
        f"<!-- generated by `make bench-latency` on {doc['generated']} -->\n" + markdown(doc) + "\n"
    )
    try:
        chart(doc, RESULTS / "latency.png")
    except ImportError:
        print("bench: matplotlib missing; no latency.png", flush=True)


def chart(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for key, row in doc["results"].items():
        if "rtt_ms" not in row or not (key.endswith(".full") or key.endswith(".login")):
            continue
        xs = sorted(int(r) for r in row["rtt_ms"])
        ys = [row["rtt_ms"][str(x)]["median_seconds"] for x in xs]
        ax.plot(xs, ys, marker="o", label=f"{row['tool']}: {row['label']}")
    ax.set_xlabel("round-trip time (ms)")
    ax.set_ylabel("full login, median wall time (s)")
    ax.set_title("Full Classic password + TOTP login through a latency proxy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
