"""Prometheus metrics: what each worker counts as it happens, and the shared live state.

Counters and histograms are kept per worker process. With several workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by them (before they start):
prometheus-client then keeps every worker's values in files there and ``GET /metrics`` on any
worker adds them all up. The live figures (queue, oldest wait, agents, open chats) are read from
the backend at each scrape, so every worker reports the same shared state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (1.0, 5.0, 10.0, 20.0, 30.0, 45.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1800.0)


class LiveState(Protocol):
    """The shared live figures a scrape reports (the reports' ``Live`` has them)."""

    @property
    def queue_length(self) -> int: ...
    @property
    def oldest_wait_s(self) -> float | None: ...
    @property
    def agents_online(self) -> int: ...
    @property
    def agents_away(self) -> int: ...
    @property
    def chats_open(self) -> int: ...


def buckets(target_s: float) -> tuple[float, ...]:
    """Response-time buckets with one edge exactly at the target, so "within target" is exact."""
    return (*sorted({*_BUCKETS, float(target_s)}), float("inf"))


class Metrics:
    """One server's metrics; the hub and connections report to it.

    Args:
        target_s: the response target (a histogram bucket edge).
        multiprocess_dir: prometheus-client's shared directory; default from
            ``PROMETHEUS_MULTIPROC_DIR`` (which prometheus-client itself reads too).
    """

    def __init__(self, target_s: float, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        # In multiprocess mode values live in the shared files, collected at scrape time;
        # registering the metrics as well would count this worker twice.
        self.registry = CollectorRegistry()
        own = None if self.multiprocess_dir else self.registry
        self.connections = Gauge(
            "chat_connections", "Open sockets.", ["role"], registry=own, multiprocess_mode="livesum"
        )
        edges = buckets(target_s)
        self.first_response = Histogram(
            "chat_first_response_seconds",
            "From needing a person to the first agent reply.",
            buckets=edges,
            registry=own,
        )
        self.response = Histogram(
            "chat_response_seconds",
            "Every response: from a shopper message waiting for an agent to the agent's reply.",
            buckets=edges,
            registry=own,
        )
        self.bot_outcomes = Counter(
            "chat_bot_outcomes",
            "Bot replies by outcome (answer, handoff).",
            ["outcome"],
            registry=own,
        )
        self.errors = Counter("chat_errors", "Error frames sent, by code.", ["code"], registry=own)
        # Each label's child, looked up once: overload refusals count one per frame.
        self._errors_by_code: dict[str, Counter] = {}
        self._connections_by_role: dict[str, Gauge] = {}

    def connected(self, role: str) -> None:
        self._connections(role).inc()

    def disconnected(self, role: str) -> None:
        self._connections(role).dec()

    def _connections(self, role: str) -> Gauge:
        child = self._connections_by_role.get(role)
        if child is None:
            child = self._connections_by_role[role] = self.connections.labels(role)
        return child

    def answered(self, seconds: float, first: bool) -> None:
        """An agent reply stopped a response clock that ran ``seconds``."""
        self.response.observe(seconds)
        if first:
            self.first_response.observe(seconds)

    def bot_replied(self, handoff: bool) -> None:
        self.bot_outcomes.labels("handoff" if handoff else "answer").inc()

    def error(self, code: str) -> None:
        child = self._errors_by_code.get(code)
        if child is None:
            child = self._errors_by_code[code] = self.errors.labels(code)
        child.inc()

    def render(self, live: LiveState) -> bytes:
        """The Prometheus text of every worker's counts plus the live state."""
        registry = self.registry
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        state = CollectorRegistry()
        state.register(_LiveCollector(live))
        return generate_latest(registry) + generate_latest(state)


class _LiveCollector(Collector):
    """Gauges of the shared live state, read from the backend just before the scrape."""

    def __init__(self, live: LiveState) -> None:
        self._live = live

    def collect(self) -> Iterator[Metric]:
        live = self._live
        yield GaugeMetricFamily(
            "chat_queue_length", "Conversations waiting for an agent.", live.queue_length
        )
        yield GaugeMetricFamily(
            "chat_oldest_wait_seconds",
            "How long the longest-waiting conversation has waited (0 when none waits).",
            live.oldest_wait_s or 0.0,
        )
        agents = GaugeMetricFamily("chat_agents", "Agents by status.", labels=["status"])
        agents.add_metric(["online"], live.agents_online)
        agents.add_metric(["away"], live.agents_away)
        yield agents
        yield GaugeMetricFamily("chat_open_chats", "Conversations held by agents.", live.chats_open)
