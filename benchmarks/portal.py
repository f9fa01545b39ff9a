"""Portal and API benchmarks, on the full-scale Greater Manchester model's published figures.

1. Public pages: the server's own time for each public page (measured inside the
   application, from the request's arrival to the last byte of its response), 200 renders
   of each after a warm-up. Target: p95 ≤ 100 ms.
2. Public API under load: ``carepool serve`` in its own process on the loopback interface,
   and a load generator in another sending public API requests at a fixed 200 requests a
   second (open loop: a request leaves on schedule whether or not earlier ones have been
   answered) for 20 seconds. Latency is measured by the generator, so it includes the
   loopback and the client's own overhead. Target: p95 ≤ 50 ms at 200 requests/s.

The figures need a full-scale demonstration (``carepool demo``) in CAREPOOL_DATA_DIR;
otherwise one is run into a temporary folder first (several minutes).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from carepool.config import Settings
from fullscale import is_full_scale

PAGES = (
    "/",
    "/places",
    "/places/E08000003",
    "/fund",
    "/decisions",
    "/journal",
    "/prevention",
    "/consultations",
    "/data",
)
API = (
    "/api/places",
    "/api/allocations",
    "/api/allocations/E08000001",
    "/api/places/E08000009",
    "/api/indicators?place=E08000003",
    "/api/neighbourhoods?place=E08000005",
    "/api/fund",
    "/api/fund_lines?place=E08000007",
    "/api/decisions",
    "/api/journal/checkpoint",
    "/api/consultations",
)
RENDERS = 200
PAGE_TARGET_MS = 100.0
RATE = 200
SECONDS = 20
API_TARGET_MS = 50.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


class ServerTime:
    """ASGI middleware: each request's time inside the application, in milliseconds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Any
    ) -> None:
        start = time.perf_counter()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.times.append((time.perf_counter() - start) * 1000)

        await self.app(scope, receive, timed_send)


def pages(data_dir: Path) -> None:
    from starlette.testclient import TestClient

    from carepool.api import create_app

    os.environ["CAREPOOL_DATA_DIR"] = str(data_dir)
    timer = ServerTime(create_app(Settings.from_env()))
    print(
        f"1. Public pages, server time, {RENDERS} renders each "
        f"(target p95 ≤ {PAGE_TARGET_MS:.0f} ms)"
    )
    every: list[float] = []
    with TestClient(timer, base_url="https://testserver") as client:
        for path in PAGES:
            for _ in range(5):
                assert client.get(path).status_code == 200, path
            timer.times.clear()
            for _ in range(RENDERS):
                client.get(path)
            times = list(timer.times)
            every += times
            print(
                f"   {path:<22} median {statistics.median(times):6.1f} ms   "
                f"p95 {p95(times):6.1f} ms"
                f"   ratio to target {p95(times) / PAGE_TARGET_MS:.2f}"
            )
    print(
        f"   all pages: p95 {p95(every):.1f} ms, ratio to target {p95(every) / PAGE_TARGET_MS:.2f}"
    )


async def _load(base: str) -> tuple[list[float], int, float]:
    import httpx2 as httpx

    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def one(path: str) -> None:
            nonlocal failures
            start = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    failures += 1
            except httpx.HTTPError:
                failures += 1
                return
            latencies.append((time.perf_counter() - start) * 1000)

        tasks = []
        began = time.perf_counter()
        for i in range(RATE * SECONDS):
            due = began + i / RATE
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(API[i % len(API)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return latencies, failures, elapsed


def api(data_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CAREPOOL_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "carepool", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        import httpx2 as httpx

        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for path in API:  # warm up
            assert httpx.get(base + path).status_code == 200, path
        print(
            f"2. Public API at {RATE} requests/s for {SECONDS} s from a second process on the "
            f"loopback (target p95 ≤ {API_TARGET_MS:.0f} ms)"
        )
        latencies, failures, elapsed = asyncio.run(_load(base))
        sent = RATE * SECONDS
        print(
            f"   sent {sent} in {elapsed:.1f} s ({sent / elapsed:.0f}/s); "
            f"answered {len(latencies)}; "
            f"failures {failures}"
        )
        print(
            f"   latency median {statistics.median(latencies):.1f} ms, "
            f"p95 {p95(latencies):.1f} ms, "
            f"p99 {statistics.quantiles(latencies, n=100)[98]:.1f} ms, "
            f"max {max(latencies):.1f} ms; "
            f"ratio of p95 to target {p95(latencies) / API_TARGET_MS:.2f}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def with_published_site(run: Callable[[Path], None]) -> None:
    data_dir = Settings.from_env().data_dir
    if is_full_scale(data_dir) and (data_dir / "public" / "fund" / "meta.json").is_file():
        run(data_dir)
        return
    with tempfile.TemporaryDirectory(prefix="carepool-bench-") as tmp:
        print("  running the full-scale demonstration for the portal benchmarks")
        env = {**os.environ, "CAREPOOL_DATA_DIR": tmp}
        subprocess.run(
            [sys.executable, "-m", "carepool", "demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        run(Path(tmp))


def main() -> None:
    print("Portal and API (full-scale Greater Manchester, published figures)")

    def both(data_dir: Path) -> None:
        pages(data_dir)
        api(data_dir)

    with_published_site(both)


if __name__ == "__main__":
    main()
