"""Prometheus metrics: a bucket at the target, live gauges, and sums over several worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatserver.core.metrics import Metrics, buckets
from chatserver.reports.models import Live

LIVE = Live(at=0, agents_online=3, agents_away=1, chats_open=4, queue_length=2, oldest_wait_s=75.5)

WORKER = """
import sys
from chatserver.core.metrics import Metrics
from chatserver.reports.models import Live
metrics = Metrics(45)
metrics.connected("shopper")
metrics.answered(float(sys.argv[1]), first=True)
metrics.bot_replied(handoff=True)
metrics.error("rate_limited")
if len(sys.argv) > 2:
    live = Live(at=0, agents_online=1, agents_away=0, chats_open=0, queue_length=0, oldest_wait_s=None)
    sys.stdout.write(metrics.render(live).decode())
"""


def test_buckets_have_an_edge_at_the_target() -> None:
    assert 45.0 in buckets(45)
    assert buckets(60).count(60.0) == 1
    assert buckets(60)[-1] == float("inf")


def test_one_process_renders_counts_and_live_state() -> None:
    metrics = Metrics(60, multiprocess_dir="")
    metrics.answered(42.0, first=True)
    metrics.answered(75.0, first=False)
    metrics.connected("agent")
    text = metrics.render(LIVE).decode()
    assert 'chat_first_response_seconds_bucket{le="60.0"} 1.0' in text
    assert 'chat_response_seconds_bucket{le="60.0"} 1.0' in text
    assert "chat_response_seconds_count 2.0" in text
    assert 'chat_connections{role="agent"} 1.0' in text
    assert "chat_queue_length 2.0" in text
    assert "chat_oldest_wait_seconds 75.5" in text
    assert 'chat_agents{status="online"} 3.0' in text


@pytest.mark.slow
def test_several_workers_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for seconds in ("10", "50", "70"):
        subprocess.run([sys.executable, "-c", WORKER, seconds], env=env, check=True)
    # A fourth worker answers the scrape: it reports every worker's counts, its own included.
    text = subprocess.run(
        [sys.executable, "-c", WORKER, "20", "render"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "chat_first_response_seconds_count 4.0" in text
    assert 'chat_first_response_seconds_bucket{le="45.0"} 2.0' in text
    assert 'chat_bot_outcomes_total{outcome="handoff"} 4.0' in text
    assert 'chat_errors_total{code="rate_limited"} 4.0' in text
    assert "chat_queue_length 0.0" in text
