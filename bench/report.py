"""The results: a table on stdout, budget verdicts, JSON and a PNG bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CACHED_BUDGET = 2.5  # × the stdlib floor
TOKENDITO_BUDGET = 0.5  # × tokendito's full login
GIMME_BUDGET = 0.33  # × gimme-aws-creds' full login
CACHED_KEYS = ("okenv.env", "okenv.exec", "okenv.credential_process", "okenv.complete")


def _median(results: dict[str, Any], key: str) -> float | None:
    entry = results.get(key)
    if not entry or entry.get("error") or not entry.get("seconds", {}).get("n"):
        return None
    return float(entry["seconds"]["median"])


def budgets(results: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts: list[dict[str, Any]] = []
    floor = _median(results, "floor.script")

    def add(
        name: str, value: float | None, limit: float | None, unit: str, why_unchecked: str = ""
    ) -> None:
        if value is None or limit is None:
            verdicts.append(
                {
                    "budget": name,
                    "ok": None,
                    "value": value,
                    "limit": limit,
                    "unit": unit,
                    "note": why_unchecked or "not measured",
                }
            )
        else:
            verdicts.append(
                {
                    "budget": name,
                    "ok": value <= limit,
                    "value": value,
                    "limit": limit,
                    "unit": unit,
                    "note": "",
                }
            )

    for key in (*CACHED_KEYS, "okenv.use"):
        value = _median(results, key)
        label = results.get(key, {}).get("label", key)
        name = f"{label} ≤ {CACHED_BUDGET}× floor"
        if key == "okenv.use":
            name += " (informational: the bash function's argument order)"
        add(name, value, floor * CACHED_BUDGET if floor else None, "s")
    login = _median(results, "okenv.login")
    for peer, factor in (("tokendito.login", TOKENDITO_BUDGET), ("gimme.login", GIMME_BUDGET)):
        peer_median = _median(results, peer)
        tool = results.get(peer, {}).get("tool", peer)
        why = (
            f"{tool} could not run: {results.get(peer, {}).get('error')}"
            if (results.get(peer, {}).get("error"))
            else ""
        )
        add(
            f"full login ≤ {factor}× {tool}",
            login,
            peer_median * factor if peer_median else None,
            "s",
            why,
        )
    peer_requests = [
        results[k]["requests"]
        for k in ("tokendito.login", "gimme.login")
        if k in results and not results[k].get("error") and results[k].get("requests")
    ]
    mine = results.get("okenv.login", {}).get("requests")
    add(
        "HTTP requests per Classic TOTP login ≤ the fewest of the peers",
        mine,
        min(peer_requests) if peer_requests else None,
        "requests",
        "" if peer_requests else "no peer could run",
    )
    return verdicts


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:,.1f}"


def rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    floor = _median(results, "floor.script")
    gimme = _median(results, "gimme.login")
    tokendito = _median(results, "tokendito.login")
    out: list[tuple[str, ...]] = [
        (
            "tool",
            "case",
            "median ms",
            "p25–p75 ms",
            "min–max ms",
            "peak RSS MiB",
            "req/login",
            "ratio",
        )
    ]
    for key, entry in results.items():
        if entry.get("error"):
            out.append(
                (
                    entry["tool"],
                    entry["label"],
                    "—",
                    "—",
                    "—",
                    "—",
                    "—",
                    "could not run: " + entry["error"][:90],
                )
            )
            continue
        s = entry["seconds"]
        ratio = ""
        if entry["group"] == "cached" and floor:
            ratio = f"{s['median'] / floor:.2f}× floor"
        elif key == "okenv.login":
            parts = []
            if tokendito:
                parts.append(f"{s['median'] / tokendito:.2f}× tokendito")
            if gimme:
                parts.append(f"{s['median'] / gimme:.2f}× gimme")
            ratio = ", ".join(parts)
        elif key == "floor.pass" and floor:
            ratio = f"{s['median'] / floor:.2f}× floor"
        rss = entry["max_rss_mib"]["median"]
        out.append(
            (
                entry["tool"],
                entry["label"],
                _ms(s["median"]),
                f"{_ms(s['p25'])}–{_ms(s['p75'])}",
                f"{_ms(s['min'])}–{_ms(s['max'])}",
                f"{rss:.0f}",
                str(entry.get("requests", "")) if entry.get("requests") else "",
                ratio,
            )
        )
    return out


def table(results: dict[str, Any]) -> str:
    rows_ = rows(results)
    widths = [max(len(r[i]) for r in rows_) for i in range(len(rows_[0]))]
    lines = []
    for n, row in enumerate(rows_):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: dict[str, Any], verdicts: list[dict[str, Any]]) -> str:
    rows_ = rows(results)
    out = ["| " + " | ".join(rows_[0]) + " |", "|" + "---|" * len(rows_[0])]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows_[1:]]
    out += ["", "| budget | verdict |", "|---|---|"]
    out += [f"| {v['budget']} | {verdict_text(v)} |" for v in verdicts]
    return "\n".join(out)


def verdict_text(v: dict[str, Any]) -> str:
    if v["ok"] is None:
        return f"not checked ({v['note']})"
    if v["unit"] == "s":
        got, limit = f"{v['value'] * 1000:,.1f} ms", f"{v['limit'] * 1000:,.1f} ms"
    else:
        got, limit = f"{v['value']}", f"{v['limit']}"
    return f"{'PASS' if v['ok'] else 'FAIL'}: {got} (limit {limit})"


def chart(
    results: dict[str, Any], verdicts: list[dict[str, Any]], path: Path, subtitle: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "okenv": "#2b7bba",
        "gimme-aws-creds": "#d95f02",
        "tokendito": "#7570b3",
        "floor": "#888888",
    }
    groups = [
        ("Full login (s)", ["login"], 1.0),
        ("Cached calls and the floor (ms)", ["cached", "floor"], 1000.0),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), gridspec_kw={"width_ratios": [1, 1.6]})
    for ax, (title, wanted, scale) in zip(axes, groups, strict=True):
        names, medians, lows, highs, cols = [], [], [], [], []
        for entry in results.values():
            if entry["group"] not in wanted:
                continue
            name = f"{entry['tool']}: {entry['label']}"
            names.append(name if len(name) < 48 else name[:46] + "…")
            if entry.get("error"):
                medians.append(0.0)
                lows.append(0.0)
                highs.append(0.0)
            else:
                s = entry["seconds"]
                medians.append(s["median"] * scale)
                lows.append((s["median"] - s["p25"]) * scale)
                highs.append((s["p75"] - s["median"]) * scale)
            cols.append(colours.get(entry["tool"], "#444444"))
        y = list(range(len(names)))[::-1]
        ax.barh(y, medians, xerr=[lows, highs], color=cols, capsize=3)
        shown = [e for e in results.values() if e["group"] in wanted]
        for yi, m, hi, entry in zip(y, medians, highs, shown, strict=True):
            text = (
                "could not run"
                if entry.get("error")
                else (f"{m:.2f}" if scale == 1.0 else f"{m:.0f}")
            )
            ax.text(m + hi, yi, "  " + text, va="center", fontsize=8)
        ax.set_yticks(y, names, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlim(0, max(medians or [1]) * 1.25)
        if scale != 1.0:
            floor = next((e for e in results.values() if e["key"] == "floor.script"), None)
            if floor and not floor.get("error"):
                limit = floor["seconds"]["median"] * 1000 * 2.5
                ax.set_xlim(0, max([*medians, limit]) * 1.15)
                ax.axvline(limit, color="#c00", ls="--", lw=1)
                ax.text(limit, max(y) + 0.45, " budget 2.5× floor", color="#c00", fontsize=8)
    passed = sum(1 for v in verdicts if v["ok"])
    checked = sum(1 for v in verdicts if v["ok"] is not None)
    fig.suptitle(
        f"okenv vs gimme-aws-creds vs tokendito — budgets {passed}/{checked} met\n{subtitle}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
