"""What a bench run found: merged phase figures, the summary JSON (a contract) and a table."""

from __future__ import annotations

from typing import Any

from chatserver.domain.stats import percentile

# The keys every ``chatserver bench --json`` summary has; ``--baseline`` adds BASELINE_KEYS.
SUMMARY_KEYS = (
    "shoppers",
    "agents",
    "offered_rate",
    "relayed_per_s",
    "p50_ms",
    "p99_ms",
    "lost",
    "duplicated",
    "rss_per_conn_kib",
)
BASELINE_KEYS = ("bare_relayed_per_s", "bare_p99_ms", "throughput_ratio", "p99_ratio")


def merge_phase(parts: list[dict[str, Any]], server: dict[str, Any]) -> dict[str, Any]:
    """One phase's figures from every load process's ``phase_done``, plus the server's sample."""
    latencies = sorted(x for part in parts for x in part["latencies_us"])
    window = parts[0]["window_s"]
    in_window = sum(part["in_window"] for part in parts)

    def ms(share: float) -> float:
        return round((percentile(latencies, share) or 0.0) / 1000, 2)

    return {
        "phase": parts[0]["phase"],
        "offered_rate": parts[0]["rate"] * len(parts),
        "sent": sum(part["sent"] for part in parts),
        "answered": sum(part["answered"] for part in parts),
        "relayed_per_s": round(in_window / window, 1) if window else 0.0,
        "p50_ms": ms(0.50),
        "p90_ms": ms(0.90),
        "p99_ms": ms(0.99),
        "max_ms": round(latencies[-1] / 1000, 2) if latencies else 0.0,
        "samples": len(latencies),
        "lost": sum(part["lost"] for part in parts),
        "refused": sum(part.get("refused", 0) for part in parts),
        "loadgen_cpu_pct": round(sum(part["loadgen_cpu_pct"] for part in parts), 1),
        **server,
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def summarize(
    options: dict[str, Any], hub: dict[str, Any], bare: dict[str, Any] | None
) -> dict[str, Any]:
    """The one JSON object a run prints last (keys in SUMMARY_KEYS and BASELINE_KEYS are a contract).

    ``relayed_per_s`` and the round-trip percentiles are those of the run at the offered rate (the
    closed loop when ``--rate 0``); ``max_relayed_per_s`` is the closed-loop throughput when it
    was measured. Ratios are hub / bare.
    """
    main = hub["phases"]["offered"]
    closed = hub["phases"].get("closed") or (main if options["rate"] <= 0 else None)
    summary: dict[str, Any] = {
        "shoppers": options["shoppers"],
        "agents": options["agents"],
        "offered_rate": options["rate"],
        "backend": "redis" if options.get("redis_url") else "embedded",
        "workers": options.get("workers", 1),
        "connections": hub["connections"],
        "chatting": hub["chatting"],
        "relayed_per_s": main["relayed_per_s"],
        "max_relayed_per_s": closed["relayed_per_s"] if closed else None,
        "p50_ms": main["p50_ms"],
        "p90_ms": main["p90_ms"],
        "p99_ms": main["p99_ms"],
        "max_ms": main["max_ms"],
        "lost": hub["lost"],
        "duplicated": hub["duplicated"],
        "errors": hub["errors"],
        "server_cpu_pct": main["server_cpu_pct"],
        "server_cpu_idle_pct": hub["cpu_idle_pct"],
        "server_rss_mib": hub["rss_end_mib"],
        "rss_per_conn_kib": hub["rss_per_conn_kib"],
        "rss_per_chat_kib": hub["rss_per_chat_kib"],
        "loadgen_cpu_pct": main["loadgen_cpu_pct"],
        "phases": {"hub": hub["phases"]},
    }
    if bare is not None:
        bare_main = bare["phases"]["offered"]
        bare_closed = bare["phases"].get("closed") or (bare_main if options["rate"] <= 0 else None)
        summary |= {
            "bare_relayed_per_s": (bare_closed or bare_main)["relayed_per_s"],
            "bare_p99_ms": bare_main["p99_ms"],
            "bare_lost": bare["lost"],
            "bare_rss_per_conn_kib": bare["rss_per_conn_kib"],
            "throughput_ratio": _ratio(
                (closed or main)["relayed_per_s"], (bare_closed or bare_main)["relayed_per_s"]
            ),
            "p99_ratio": _ratio(main["p99_ms"], bare_main["p99_ms"]),
        }
        summary["phases"]["bare"] = bare["phases"]
    if "churn" in hub["phases"]:
        churn = hub["phases"]["churn"]
        summary |= {
            "churn_per_s": churn["churn_per_s"],
            "rss_growth_per_visit_bytes": churn["rss_growth_per_visit_bytes"],
        }
        if bare is not None and "churn" in bare["phases"]:
            bare_churn = bare["phases"]["churn"]["churn_per_s"]
            summary |= {
                "bare_churn_per_s": bare_churn,
                "churn_ratio": _ratio(churn["churn_per_s"], bare_churn),
            }
    if "overload" in hub["phases"]:
        over = hub["phases"]["overload"]
        summary |= {
            "sustainable_per_s": over["sustainable_per_s"],
            "overload_offered_per_s": over["offered_rate"],
            "overload_relayed_per_s": over["relayed_per_s"],
            "overload_p99_ms": over["p99_ms"],
            "overload_refused": over["refused"],
            "overload_unanswered": over["lost"],
            "overload_rss_mib": over["server_rss_mib"],
        }
    return summary


def table(summary: dict[str, Any]) -> str:
    """The summary as a readable table: one row per server and phase, then the totals."""
    head = (
        "server",
        "phase",
        "offered/s",
        "relayed/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "lost",
        "srv CPU%",
        "load CPU%",
    )
    rows = [head]
    for server, phases in summary["phases"].items():
        for phase in phases.values():
            if phase["phase"] == "churn":
                continue
            offered = phase["offered_rate"]
            rows.append(
                (
                    server,
                    "closed loop" if offered <= 0 else phase["phase"],
                    "max" if offered <= 0 else f"{offered:g}",
                    f"{phase['relayed_per_s']:.0f}",
                    f"{phase['p50_ms']:.1f}",
                    f"{phase['p90_ms']:.1f}",
                    f"{phase['p99_ms']:.1f}",
                    f"{phase['max_ms']:.1f}",
                    str(phase["lost"]),
                    f"{phase['server_cpu_pct']:.0f}",
                    f"{phase['loadgen_cpu_pct']:.0f}",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.rjust(w) if i > 1 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        f"connections held: {summary['connections']} ({summary['shoppers']} shoppers, {summary['chatting']} "
        f"chatting; {summary['agents']} agents), backend {summary['backend']}, workers {summary['workers']}"
    )
    lines.append(
        f"lost {summary['lost']}, duplicated {summary['duplicated']}, error frames {summary['errors']}; "
        f"server RSS {summary['server_rss_mib']:.0f} MiB, {summary['rss_per_conn_kib']:.1f} KiB per open "
        f"socket ({summary['rss_per_chat_kib']:.1f} KiB with its chat), idle CPU "
        f"{summary['server_cpu_idle_pct']:.0f}%"
    )
    if "throughput_ratio" in summary:
        lines.append(
            f"hub/bare: throughput {summary['throughput_ratio']} (closed loop, target >= 0.5), "
            f"p99 {summary['p99_ratio']} (at {summary['offered_rate']:g}/s); bare RSS per socket "
            f"{summary['bare_rss_per_conn_kib']:.1f} KiB"
        )
    if "churn_per_s" in summary:
        lines.append(
            f"page views that open the chat: hub {summary['churn_per_s']:g}/s"
            + (
                f", bare {summary['bare_churn_per_s']:g}/s, ratio {summary['churn_ratio']}"
                if "churn_ratio" in summary
                else ""
            )
            + f"; server RSS growth {summary['rss_growth_per_visit_bytes']} bytes per visit"
        )
    if "overload_relayed_per_s" in summary:
        lines.append(
            f"overload: offered {summary['overload_offered_per_s']:g}/s (2x the closed loop's "
            f"{summary['sustainable_per_s']:g}/s): relayed {summary['overload_relayed_per_s']:g}/s, "
            f"p99 {summary['overload_p99_ms']:g} ms, refused {summary['overload_refused']}, "
            f"unanswered 10 s after the load stopped {summary['overload_unanswered']}, "
            f"server RSS {summary['overload_rss_mib']:g} MiB"
        )
    return "\n".join(lines)
