"""Orchestration of ``chatserver bench``: server and load-generator processes, phases, samples.

The runner starts the server (the hub, or the bare relay for the baseline) and the load
generators as child processes on 127.0.0.1, steers them phase by phase over the load generators'
stdin/stdout, samples the server with psutil, and merges what comes back. Every wait has a time
limit, and every child is stopped (then killed) on the way out.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import psutil  # type: ignore[import-untyped]

from chatserver.bench._dialects import BENCH_PASSWORD, agent_id
from chatserver.bench._system import free_port, raise_open_files
from chatserver.bench.report import merge_phase, summarize

OVERLOAD_DRAIN_S = 10.0  # what is unanswered this long after the overload stops counts as lost
MAX_CAPACITY = 50  # an agent's capacity is capped here by the protocol (SetStatus) and Account


class BenchFailed(Exception):
    """Raised when a server or load generator fails, or a step overruns its time limit."""


@dataclass
class Options:
    """What one ``chatserver bench`` run does."""

    shoppers: int = 1000
    agents: int = 50
    rate: float = 2000.0
    duration: float = 10.0
    warmup: float = 3.0
    drain: float = 5.0
    baseline: bool = False
    redis_url: str = ""
    workers: int = 1
    load_procs: int = 1
    host: str = "127.0.0.1"
    text_bytes: int = 64
    churn: bool = False
    churn_concurrency: int = 32
    overload: bool = False
    overload_duration: float = 30.0
    overload_factor: float = 2.0

    def plan(self) -> list[tuple[str, float]]:
        """The phases each server runs: the offered rate, then (with a baseline) the closed loop."""
        phases = [("offered", self.rate)]
        if self.baseline and self.rate > 0:
            phases.append(("closed", 0.0))
        return phases


class _Child:
    """A child process whose stdout we read as JSON lines and whose stderr goes to a file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log: Path) -> None:
        self.name, self.process, self.log = name, process, log

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    async def event(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            raise BenchFailed(f"{self.name} said nothing for {timeout:.0f} s") from None
        if not line:
            raise BenchFailed(f"{self.name} exited ({self.process.returncode}):\n{self.tail()}")
        event: dict[str, Any] = json.loads(line)
        if event.get("event") == "error":
            raise BenchFailed(f"{self.name}: {event['message']} {event.get('errors') or ''}")
        return event

    def command(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())

    async def stop(self, timeout: float = 15.0) -> None:
        if self.process.returncode is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(self.process.wait(), timeout)
            except (TimeoutError, ProcessLookupError):
                self.process.kill()
                await self.process.wait()


async def _spawn(name: str, argv: list[str], log: Path, pipes: bool = False) -> _Child:
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipes else err,
            stderr=err,
            preexec_fn=raise_open_files,
            limit=2**26,
        )
    return _Child(name, process, log)


class _ServerSample:
    """CPU and memory of the server processes."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.processes)

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes)


async def _listening(host: str, ports: list[int], servers: list[_Child], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                _, writer = await asyncio.open_connection(host, port)
                writer.close()
                break
            except OSError:
                if any(s.process.returncode is not None for s in servers):
                    raise BenchFailed(f"server exited:\n{servers[0].tail()}") from None
                if time.monotonic() > deadline:
                    raise BenchFailed(
                        f"server not listening after {timeout:.0f} s:\n{servers[0].tail()}"
                    ) from None
                await asyncio.sleep(0.1)


async def _create_agents(options: Options, data_dir: Path, prefix: str, capacity: int) -> None:
    """Bench agent accounts, stored before the server starts (as ``chatserver agents add``)."""
    from argon2 import PasswordHasher

    from chatserver.core.auth import Account
    from chatserver.domain.settings import Settings
    from chatserver.store import store_for

    settings = Settings(data_dir=data_dir, redis_url=options.redis_url, redis_prefix=prefix)  # type: ignore[call-arg]
    store = store_for(settings)
    await store.start()
    # A cheap argon2 hash (its cost is in the hash): login stays real without 50 ms per agent.
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
        BENCH_PASSWORD
    )
    try:
        await asyncio.gather(
            *(
                store.accounts.put(
                    agent_id(k),
                    Account(
                        id=agent_id(k),
                        name=f"Bench {k}",
                        capacity=capacity,
                        password_hash=password_hash,
                    ).model_dump_json(),
                )
                for k in range(options.agents)
            )
        )
    finally:
        await store.close()


async def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


class Progress:
    """The progress line: what the load generators last said, and the server's CPU."""

    def __init__(self, out: TextIO, kind: str, sample: _ServerSample) -> None:
        self.out, self.kind, self.sample = out, kind, sample
        self.latest: dict[int, dict[str, Any]] = {}
        self.last_print = 0.0
        self.cpu_mark = (time.monotonic(), sample.cpu_seconds())

    def update(self, proc: int, event: dict[str, Any]) -> None:
        self.latest[proc] = event
        now = time.monotonic()
        if now - self.last_print < 1.0:
            return
        cpu = self.sample.cpu_seconds()
        cpu_pct = 100 * (cpu - self.cpu_mark[1]) / max(1e-6, now - self.cpu_mark[0])
        self.cpu_mark, self.last_print = (now, cpu), now
        events = list(self.latest.values())
        phase = events[0].get("phase", "")
        if phase == "connect":
            text = f"connected {sum(e.get('connected', 0) for e in events)}"
        else:
            text = (
                f"sent {sum(e.get('sent', 0) for e in events)} answered "
                f"{sum(e.get('answered', 0) for e in events)} in flight "
                f"{sum(e.get('outstanding', 0) for e in events)}"
            )
        self.out.write(
            f"[{self.kind} {phase} {events[0].get('elapsed', 0):5.1f}s] {text}, server CPU {cpu_pct:3.0f}%, "
            f"RSS {self.sample.rss() / 2**20:.0f} MiB\n"
        )
        self.out.flush()


async def _gather_events(
    loads: list[_Child], kind: str, timeout: float, progress: Progress | None
) -> list[dict[str, Any]]:
    """The next non-progress event of every load generator (progress events update the line)."""

    async def one(index: int, child: _Child) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            event = await child.event(max(0.1, deadline - time.monotonic()))
            if event["event"] != "progress":
                if event["event"] != kind:
                    raise BenchFailed(f"{child.name}: expected {kind}, got {event}")
                return event
            if progress is not None:
                progress.update(index, event)

    return list(await asyncio.gather(*(one(i, child) for i, child in enumerate(loads))))


async def run_target(kind: str, options: Options, out: TextIO) -> dict[str, Any]:
    """Start one server (``hub`` or ``bare``), load it through every phase, and stop it."""
    capacity = min(MAX_CAPACITY, math.ceil(options.shoppers / max(1, options.agents)))
    chatting = min(options.shoppers, options.agents * capacity)
    prefix = f"bench-{secrets.token_hex(4)}:"
    with tempfile.TemporaryDirectory(prefix="chatserver-bench-") as tmp:
        tmp_path = Path(tmp)
        workers = options.workers if kind == "hub" else 1
        ports = [free_port(options.host) for _ in range(workers)]
        if kind == "hub":
            await _create_agents(options, tmp_path / "data", prefix, capacity)
        servers = [
            await _spawn(
                f"{kind} server :{port}",
                _server_argv(kind, options, port, tmp_path, prefix),
                tmp_path / f"server-{port}.log",
            )
            for port in ports
        ]
        loads: list[_Child] = []
        try:
            await _listening(options.host, ports, servers, timeout=60)
            sample = _ServerSample([s.process.pid for s in servers])
            rss_idle = sample.rss()
            progress = Progress(out, kind, sample)
            loads = await _start_load(kind, options, ports, chatting, capacity, tmp_path)
            await _gather_events(loads, "ready", 60 + options.shoppers / 50, progress)
            connections = options.shoppers + options.agents
            rss_connected = sample.rss()
            cpu0, t0 = sample.cpu_seconds(), time.monotonic()
            await asyncio.sleep(1.5)
            cpu_idle = 100 * (sample.cpu_seconds() - cpu0) / (time.monotonic() - t0)
            for child in loads:
                child.command(cmd="prime", timeout=60 + chatting / 20)
            await _gather_events(loads, "primed", 90 + chatting / 20, progress)
            phases, last = await _run_phases(options, loads, sample, progress)
            if options.overload and kind == "hub":
                phases |= await _run_overload(options, phases, loads, sample, progress)
            if options.churn:
                phases["churn"] = await _run_churn(options, loads, sample, progress)
            rss_end = sample.rss()
        finally:
            for child in loads:
                if child.process.returncode is None and child.process.stdin is not None:
                    child.command(cmd="quit")
            await asyncio.gather(*(child.stop(20) for child in loads))
            await asyncio.gather(*(server.stop(20) for server in servers))
            if kind == "hub" and options.redis_url:
                await _drop_redis_keys(options.redis_url, prefix)
    return {
        "kind": kind,
        "connections": connections,
        "chatting": chatting,
        "capacity": capacity,
        "rss_idle_mib": round(rss_idle / 2**20, 1),
        "rss_end_mib": round(rss_end / 2**20, 1),
        "rss_per_conn_kib": round((rss_connected - rss_idle) / connections / 1024, 1),
        "rss_per_chat_kib": round((rss_end - rss_idle) / connections / 1024, 1),
        "cpu_idle_pct": round(cpu_idle, 1),
        "phases": phases,
        **{
            key: sum(event["totals"][key] for event in last)
            for key in ("lost", "duplicated", "seq_gaps", "late", "errors")
        },
    }


async def _start_load(
    kind: str, options: Options, ports: list[int], chatting: int, capacity: int, tmp: Path
) -> list[_Child]:
    """Start the load-generator processes, each with its share of shoppers and agents."""
    loads = []
    for proc in range(options.load_procs):
        config = {
            "dialect": kind,
            "host": options.host,
            "ports": ports,
            "chatting": chatting,
            "capacity": capacity,
            "text_bytes": options.text_bytes,
            "shoppers": list(range(proc, options.shoppers, options.load_procs)),
            "agents": list(range(proc, options.agents, options.load_procs)),
            "deadline_s": _time_limit(options, chatting),
        }
        loads.append(
            await _spawn(
                f"load generator {proc}",
                [sys.executable, "-m", "chatserver.bench.load", json.dumps(config)],
                tmp / f"load-{proc}.log",
                pipes=True,
            )
        )
    return loads


async def _run_phases(
    options: Options, loads: list[_Child], sample: _ServerSample, progress: Progress
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every phase of the plan; the merged figures per phase and the last phase's events."""
    phases: dict[str, Any] = {}
    last: list[dict[str, Any]] = []
    for name, rate in options.plan():
        per_proc = rate / options.load_procs
        for child in loads:
            child.command(
                cmd="phase",
                name=name,
                rate=per_proc,
                warmup=options.warmup,
                duration=options.duration,
                drain=options.drain,
            )
        window = asyncio.create_task(_window_cpu(sample, options.warmup, options.duration))
        last = await _gather_events(
            loads, "phase_done", options.warmup + options.duration + options.drain + 60, progress
        )
        cpu_pct = await window
        server = {
            "server_cpu_pct": round(cpu_pct, 1),
            "server_rss_mib": round(sample.rss() / 2**20, 1),
        }
        phases[name] = merge_phase(last, server)
    return phases, last


async def _run_phase(
    name: str,
    rate: float,
    duration: float,
    options: Options,
    loads: list[_Child],
    sample: _ServerSample,
    progress: Progress,
    drain: float | None = None,
) -> dict[str, Any]:
    """One phase at ``rate`` (0: closed loop) for ``duration`` measured seconds, then ``drain``
    seconds (``options.drain`` unless given) for late replies."""
    drain = options.drain if drain is None else drain
    for child in loads:
        child.command(
            cmd="phase",
            name=name,
            rate=rate / options.load_procs,
            warmup=options.warmup,
            duration=duration,
            drain=drain,
        )
    window = asyncio.create_task(_window_cpu(sample, options.warmup, duration))
    done = await _gather_events(
        loads, "phase_done", options.warmup + duration + drain + 60, progress
    )
    server = {
        "server_cpu_pct": round(await window, 1),
        "server_rss_mib": round(sample.rss() / 2**20, 1),
    }
    return merge_phase(done, server)


async def _run_overload(
    options: Options,
    phases: dict[str, Any],
    loads: list[_Child],
    sample: _ServerSample,
    progress: Progress,
) -> dict[str, Any]:
    """The closed loop's rate (measured now unless this run has it), then ``overload_factor``
    times it offered for ``overload_duration``: what is relayed, refused and left unanswered."""
    found: dict[str, Any] = {}
    closed = phases.get("closed") or (phases["offered"] if options.rate <= 0 else None)
    if closed is None:
        closed = found["closed"] = await _run_phase(
            "closed", 0.0, options.duration, options, loads, sample, progress
        )
    sustainable = closed["relayed_per_s"]
    rate = max(1.0, round(options.overload_factor * sustainable))
    drain = max(options.drain, OVERLOAD_DRAIN_S)
    over = await _run_phase(
        "overload", rate, options.overload_duration, options, loads, sample, progress, drain
    )
    found["overload"] = {**over, "sustainable_per_s": sustainable}
    return found


async def _run_churn(
    options: Options, loads: list[_Child], sample: _ServerSample, progress: Progress
) -> dict[str, Any]:
    """Page views that open the chat (connect, hello, close) as fast as the server takes them."""
    rss_before = sample.rss()
    window = asyncio.create_task(_window_cpu(sample, options.warmup, options.duration))
    per_proc = max(1, options.churn_concurrency // options.load_procs)
    for child in loads:
        child.command(
            cmd="churn", warmup=options.warmup, duration=options.duration, concurrency=per_proc
        )
    done = await _gather_events(
        loads, "churn_done", options.warmup + options.duration + 60, progress
    )
    visits = sum(event["visits"] for event in done)
    return {
        "phase": "churn",
        "churn_per_s": round(sum(event["churn_per_s"] for event in done), 1),
        "visits": visits,
        "failed": sum(event["failed"] for event in done),
        "server_cpu_pct": round(await window, 1),
        "rss_growth_per_visit_bytes": round((sample.rss() - rss_before) / max(1, visits)),
    }


async def _window_cpu(sample: _ServerSample, warmup: float, duration: float) -> float:
    """The server's CPU (percent of one core) over a phase's measured window."""
    await asyncio.sleep(warmup)
    cpu0, t0 = sample.cpu_seconds(), time.monotonic()
    await asyncio.sleep(duration)
    return 100 * (sample.cpu_seconds() - cpu0) / (time.monotonic() - t0)


def _time_limit(options: Options, chatting: int) -> float:
    """How long a load generator may live before it gives up by itself."""
    per_phase = options.warmup + options.duration + options.drain + 60
    overload = (
        2 * per_phase + options.overload_duration + OVERLOAD_DRAIN_S if options.overload else 0.0
    )
    return 300 + options.shoppers / 20 + chatting / 10 + per_phase * len(options.plan()) + overload


def _server_argv(kind: str, options: Options, port: int, tmp: Path, prefix: str) -> list[str]:
    if kind == "bare":
        return [
            sys.executable,
            "-m",
            "chatserver.bench.bare_relay",
            "--host",
            options.host,
            "--port",
            str(port),
            "--agents",
            str(options.agents),
        ]
    argv = [
        sys.executable,
        "-m",
        "chatserver",
        "serve",
        "--host",
        options.host,
        "--port",
        str(port),
        "--data-dir",
        str(tmp / "data"),
        "--secret-key",
        "bench-" + prefix,
        # One bench socket carries many shoppers' worth of frames: lift the per-socket limit.
        "--rate-limit-per-s",
        "1000000",
        "--rate-limit-burst",
        "1000000",
        # Every bench socket comes from one address, and 10k of them open before all say hello.
        "--max-sockets-per-address",
        "1000000",
        "--hello-timeout-s",
        "300",
        "--log-level",
        "warning",
        # No FAQ bot: the bench measures shopper-agent relay, whatever the hour (the bot would
        # take every chat outside the demo shop's staffed hours).
        "--faq-dir",
        str(tmp / "no-faq"),
    ]
    if options.redis_url:
        argv += ["--redis-url", options.redis_url, "--redis-prefix", prefix]
    return argv


async def run_bench(options: Options, out: TextIO | None = None) -> dict[str, Any]:
    """Run the hub (and with ``baseline`` or ``churn`` the bare relay) under the same load."""
    out = out or sys.stderr  # looked up now: tests swap sys.stderr
    hub = await run_target("hub", options, out)
    bare = await run_target("bare", options, out) if options.baseline or options.churn else None
    return summarize(asdict(options), hub, bare)
