"""``chatserver bench``: a short real run loses nothing, and its JSON keeps the promised keys."""

from __future__ import annotations

import json

import pytest

from chatserver.bench.report import BASELINE_KEYS, SUMMARY_KEYS, percentile, summarize, table
from chatserver.cli import main


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    # One percentile for reports and the bench: no values, no percentile (the bench prints 0).
    assert percentile([], 0.99) is None


@pytest.mark.timeout(150)
@pytest.mark.slow
def test_short_bench_with_baseline_loses_nothing_and_prints_the_json_contract_last(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "bench",
            "--shoppers",
            "6",
            "--agents",
            "2",
            "--rate",
            "30",
            "--duration",
            "1.5",
            "--warmup",
            "0.5",
            "--drain",
            "3",
            "--baseline",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0
    assert set(SUMMARY_KEYS) | set(BASELINE_KEYS) <= summary.keys()
    assert summary["lost"] == 0 and summary["duplicated"] == 0 and summary["bare_lost"] == 0
    assert summary["shoppers"] == 6 and summary["agents"] == 2 and summary["offered_rate"] == 30
    assert summary["connections"] == 8
    hub = summary["phases"]["hub"]
    assert hub["offered"]["answered"] == hub["offered"]["sent"] > 0
    assert hub["closed"]["relayed_per_s"] > 0 and summary["bare_relayed_per_s"] > 0
    assert summary["throughput_ratio"] > 0 and summary["p99_ms"] > 0
    assert "relayed/s" in out and "hub/bare" in out


def _target(rate: float, relayed: float, p99: float, lost: int = 0) -> dict:
    phase = {
        "phase": "offered",
        "offered_rate": rate,
        "sent": 10,
        "answered": 10,
        "relayed_per_s": relayed,
        "p50_ms": 1.0,
        "p90_ms": 2.0,
        "p99_ms": p99,
        "max_ms": 5.0,
        "samples": 10,
        "lost": lost,
        "loadgen_cpu_pct": 5.0,
        "server_cpu_pct": 50.0,
        "server_rss_mib": 100.0,
    }
    return {
        "connections": 12,
        "chatting": 10,
        "phases": {"offered": phase, "closed": {**phase, "offered_rate": 0.0}},
        "lost": lost,
        "duplicated": 0,
        "errors": 0,
        "cpu_idle_pct": 0.0,
        "rss_end_mib": 100.0,
        "rss_per_conn_kib": 30.0,
        "rss_per_chat_kib": 40.0,
    }


def test_ratios_are_hub_over_bare() -> None:
    options = {"shoppers": 10, "agents": 2, "rate": 100.0}
    summary = summarize(options, _target(100, 900, 8.0), _target(100, 1200, 4.0))
    assert summary["throughput_ratio"] == 0.75 and summary["p99_ratio"] == 2.0
    assert summary["bare_relayed_per_s"] == 1200 and summary["bare_p99_ms"] == 4.0
    assert "hub/bare: throughput 0.75" in table(summary)
    alone = summarize(options, _target(100, 900, 8.0), None)
    assert set(SUMMARY_KEYS) <= alone.keys() and not set(BASELINE_KEYS) & alone.keys()


@pytest.mark.timeout(150)
@pytest.mark.slow
def test_churn_times_page_views_on_the_hub_and_the_bare_relay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--shoppers", "4", "--agents", "1", "--rate", "10", "--duration", "1.5"]
    code = main(["bench", *args, "--warmup", "0.5", "--drain", "2", "--churn", "--json"])
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0
    for server in ("hub", "bare"):
        churn = summary["phases"][server]["churn"]
        assert churn["visits"] > 0 and churn["failed"] == 0
    assert summary["churn_per_s"] > 0 and summary["bare_churn_per_s"] > 0
    assert summary["churn_ratio"] == round(summary["churn_per_s"] / summary["bare_churn_per_s"], 3)
    assert "page views that open the chat" in out


def test_churn_ratio_is_hub_over_bare_in_the_summary() -> None:
    options = {"shoppers": 10, "agents": 2, "rate": 100.0}
    hub, bare = _target(100, 900, 8.0), _target(100, 1200, 4.0)
    churn = {"phase": "churn", "churn_per_s": 300.0, "rss_growth_per_visit_bytes": 12}
    hub["phases"]["churn"] = churn
    bare["phases"]["churn"] = {**churn, "churn_per_s": 600.0}
    summary = summarize(options, hub, bare)
    assert summary["churn_ratio"] == 0.5 and summary["bare_churn_per_s"] == 600.0
    assert "ratio 0.5" in table(summary)


@pytest.mark.timeout(150)
@pytest.mark.slow
def test_overload_offers_twice_the_closed_loop_and_reports_what_was_relayed_and_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    load = ["--shoppers", "20", "--agents", "4", "--rate", "20", "--duration", "1"]
    times = ["--warmup", "0.5", "--drain", "3", "--overload-duration", "1.5"]
    main(["bench", *load, *times, "--overload", "--json"])
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    phases = summary["phases"]["hub"]
    assert summary["sustainable_per_s"] == phases["closed"]["relayed_per_s"] > 0
    over = phases["overload"]
    assert over["offered_rate"] == max(1, round(2 * summary["sustainable_per_s"]))
    assert summary["overload_relayed_per_s"] > 0 and summary["overload_p99_ms"] > 0
    # Every message sent was answered, refused with a retry hint, or counted unanswered.
    assert over["answered"] + over["refused"] + over["lost"] == over["sent"]
    assert summary["overload_unanswered"] == over["lost"]
    # Unanswered in the drain window may still be answered later (late, not lost): the run's
    # total never counts more lost than the phases did.
    assert summary["lost"] <= over["lost"]
    assert summary["duplicated"] == 0 and summary["overload_rss_mib"] > 0
    assert "overload: offered" in out and "unanswered 10 s after the load stopped" in out
