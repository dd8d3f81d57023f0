"""The load-generator process: shoppers and agents that chat, and what their round trips took.

Run by the bench runner as ``python -m chatserver.bench.load CONFIG_JSON``. It connects its share of
agents and shoppers, then obeys one JSON command per stdin line (``prime``, ``phase``, ``quit``) and
reports on stdout as JSON lines (``ready``, ``progress``, ``primed``, ``phase_done``, ``error``).
Every wait is bounded, and the process gives up by itself at ``deadline_s``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any

from chatserver.bench import _wsclient as ws
from chatserver.bench._dialects import AgentBase, ShopperBase, dialect_classes
from chatserver.bench._phase import Phase
from chatserver.bench._system import raise_open_files

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class LoadGen:
    """This process's shoppers and agents, and the counters every phase adds to."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        shopper_cls, agent_cls, self.visitor_cls = dialect_classes(config["dialect"])
        self.agents: list[AgentBase] = [agent_cls(self, k) for k in config["agents"]]
        self.shoppers: list[ShopperBase] = [shopper_cls(self, i) for i in config["shoppers"]]
        self.chatters = [s for s in self.shoppers if s.index < config["chatting"]]
        self.phase: Phase | None = None
        self.outstanding = 0
        self.lost = self.duplicated = self.late = self.errors = 0
        self.seq_gaps = self.seq_repeats = 0
        self.error_samples: list[str] = []

    # --- called by shoppers and agents -------------------------------------------------------------

    def sent(self) -> None:
        self.outstanding += 1
        if self.phase is not None:
            self.phase.sent += 1

    def answered(self, shopper: ShopperBase, message_id: str) -> None:
        now = time.perf_counter()
        entry = shopper.pending.pop(message_id, None)
        if entry is None:
            if message_id in shopper.answered_ids:
                self.duplicated += 1
            elif message_id in shopper.lost_ids:
                self.late += 1
            return
        shopper.answered_ids.add(message_id)
        self.outstanding -= 1
        scheduled, phase = entry
        if phase is not None:
            phase.record(scheduled, now)
            if phase is self.phase and phase.closed and now < phase.until:
                shopper.send_message(now)
        shopper.on_answer()

    def refused(self, shopper: ShopperBase, message_id: str, retry_after_ms: int) -> None:
        """The server refused a message as overloaded: it expects no answer (the bench does not
        send it again; the widget would)."""
        entry = shopper.pending.pop(message_id, None)
        if entry is None:
            return
        self.outstanding -= 1
        phase = entry[1]
        if phase is not None:
            phase.refused += 1
            if phase is self.phase and phase.closed and time.perf_counter() < phase.until:
                # As the widget does: the next message after the server's hint.
                asyncio.get_running_loop().call_later(
                    retry_after_ms / 1000, self._again, shopper, phase
                )
        shopper.on_answer()

    def _again(self, shopper: ShopperBase, phase: Phase) -> None:
        if phase is self.phase and time.perf_counter() < phase.until:
            shopper.send_message(time.perf_counter())

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])

    # --- commands -----------------------------------------------------------------------------------

    async def connect(self) -> None:
        limit = asyncio.Semaphore(self.config.get("connect_concurrency", 100))

        async def one(client: AgentBase | ShopperBase) -> None:
            async with limit:
                await client.connect()

        started = time.perf_counter()
        await asyncio.gather(*(one(a) for a in self.agents))
        done = 0
        for start in range(0, len(self.shoppers), 1000):
            batch = self.shoppers[start : start + 1000]
            await asyncio.gather(*(one(s) for s in batch))
            done += len(batch)
            emit(
                "progress",
                phase="connect",
                connected=done + len(self.agents),
                elapsed=round(time.perf_counter() - started, 1),
            )

    async def prime(self, timeout: float) -> None:
        """Each chatting shopper's first message: starts its conversation and has it assigned."""
        limit = asyncio.Semaphore(self.config.get("prime_concurrency", 50))

        async def one(shopper: ShopperBase) -> None:
            async with limit:
                shopper.send_message(time.perf_counter())
                await shopper.wait_answer()

        async with asyncio.timeout(timeout):
            await asyncio.gather(*(one(s) for s in self.chatters))

    async def run_phase(
        self, name: str, rate: float, warmup: float, duration: float, drain: float
    ) -> dict[str, Any]:
        phase = self.phase = Phase(name, rate, warmup, duration)
        cpu0 = time.process_time()
        ticker = asyncio.create_task(self._progress(phase))
        try:
            if phase.closed:
                for shopper in self.chatters:
                    shopper.send_message(phase.start)
                await asyncio.sleep(max(0.0, phase.until - time.perf_counter()))
            else:
                await self._pace(phase)
            drain_until = time.perf_counter() + drain
            # Answers arrive in socket callbacks: poll the count they update, with a deadline.
            while self.outstanding and time.perf_counter() < drain_until:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        finally:
            ticker.cancel()
        lost = self._declare_lost()
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - phase.start
        self.phase = None
        return {
            "phase": name,
            "rate": rate,
            "sent": phase.sent,
            "answered": phase.answered,
            "in_window": phase.in_window,
            "window_s": duration,
            "lost": lost,
            "refused": phase.refused,
            "latencies_us": [round(x * 1e6) for x in phase.latencies],
            "loadgen_cpu_pct": round(100 * cpu / wall, 1) if wall else 0.0,
        }

    async def _pace(self, phase: Phase) -> None:
        """Open loop: send at the offered rate whatever the replies do (times are as scheduled)."""
        count, turn, chatters = 0, 0, self.chatters
        if not chatters:
            return
        while (now := time.perf_counter()) < phase.until:
            due = int((now - phase.start) * phase.rate)
            while count < due:
                chatters[turn].send_message(phase.start + count / phase.rate)
                turn = (turn + 1) % len(chatters)
                count += 1
            await asyncio.sleep(0.002)

    async def churn(self, warmup: float, duration: float, concurrency: int) -> dict[str, Any]:
        """Page views that open the chat, back to back from ``concurrency`` loops: half are
        returning visitors (hello with the token of their earlier visit), half new."""
        start = time.perf_counter()
        measure_from, until = start + warmup, start + warmup + duration
        counts = {"visits": 0, "in_window": 0, "failed": 0}

        async def loop(k: int) -> None:
            visitor = self.visitor_cls(self, k)
            token: str | None = None
            returning = False
            while time.perf_counter() < until:
                returning = not returning
                try:
                    kept = await visitor.visit(token if returning else None)
                except (OSError, TimeoutError, ws.HandshakeFailed) as exc:
                    counts["failed"] += 1
                    self.error(f"visit: {type(exc).__name__}: {exc}")
                    continue
                token = kept or token
                counts["visits"] += 1
                if measure_from <= time.perf_counter() < until:
                    counts["in_window"] += 1

        await asyncio.gather(*(loop(k) for k in range(concurrency)))
        return {**counts, "churn_per_s": round(counts["in_window"] / duration, 1)}

    def _declare_lost(self) -> int:
        lost = 0
        for shopper in self.chatters:
            for message_id in shopper.pending:
                shopper.lost_ids.add(message_id)
            lost += len(shopper.pending)
            shopper.pending.clear()
        self.outstanding = 0
        self.lost += lost
        return lost

    async def _progress(self, phase: Phase) -> None:
        while True:
            await asyncio.sleep(1.0)
            emit(
                "progress",
                phase=phase.name,
                elapsed=round(time.perf_counter() - phase.start, 1),
                sent=phase.sent,
                answered=phase.answered,
                outstanding=self.outstanding,
            )

    def totals(self) -> dict[str, int]:
        agent_dups = sum(a.duplicates for a in self.agents)
        return {
            "lost": self.lost,
            "duplicated": self.duplicated + agent_dups + self.seq_repeats,
            "seq_gaps": self.seq_gaps,
            "late": self.late,
            "errors": self.errors,
        }

    async def close(self) -> None:
        for client in [*self.shoppers, *self.agents]:
            client.close()
        await asyncio.sleep(0.2)


def quiet_collector() -> None:
    """Before a measured phase: collect now and freeze what lives on (the sockets, the shoppers),
    so no full collection of them pauses this process, and its timings, inside the phase."""
    gc.collect()
    gc.freeze()


async def serve_commands(gen: LoadGen, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await asyncio.wait_for(reader.readline(), max(1.0, deadline - time.monotonic()))
        if not line:
            return
        command = json.loads(line)
        if command["cmd"] == "prime":
            await gen.prime(command.get("timeout", 120.0))
            emit("primed", chatting=len(gen.chatters), totals=gen.totals())
        elif command["cmd"] == "phase":
            quiet_collector()
            result = await gen.run_phase(
                command["name"],
                command["rate"],
                command["warmup"],
                command["duration"],
                command["drain"],
            )
            emit("phase_done", **result, totals=gen.totals())
        elif command["cmd"] == "churn":
            quiet_collector()
            result = await gen.churn(
                command["warmup"], command["duration"], command.get("concurrency", 32)
            )
            emit("churn_done", **result, totals=gen.totals())
        elif command["cmd"] == "quit":
            return


async def amain(config: dict[str, Any]) -> None:
    deadline = time.monotonic() + config.get("deadline_s", 600)
    gen = LoadGen(config)
    try:
        async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
            await gen.connect()
            emit("ready", connected=len(gen.shoppers) + len(gen.agents), chatting=len(gen.chatters))
            await serve_commands(gen, deadline)
    except (TimeoutError, OSError, ws.HandshakeFailed, RuntimeError) as exc:
        emit("error", message=f"{type(exc).__name__}: {exc}", errors=gen.error_samples)
    finally:
        await gen.close()


def main() -> None:
    raise_open_files()
    config = json.loads(sys.argv[1])
    if uvloop is not None:
        uvloop.run(amain(config))
    else:  # pragma: no cover
        asyncio.run(amain(config))


if __name__ == "__main__":
    main()
