"""Ledger benchmarks: posting throughput with concurrent writers, and a year's position.

1. Throughput on PostgreSQL: 8 concurrent writers post spend to a Greater Manchester-sized
   fund (11 partners, 500 lines) for a fixed time, each request with its own id, every 20th
   sent again as a retry. Three ways of writing:
   - 8 writer threads in one process, one request per call (``Ledger.post_one``), as an API
     server's workers post: concurrent requests share a transaction (group commit);
   - 8 writer processes, one request per call: no sharing, each request a transaction;
   - 8 writer processes, batches of 50 requests per transaction (``Ledger.submit``), as a
     finance system's nightly feed.
   After each run the benchmark checks for anomalies: every request posted exactly once,
   the chain verifies, the books balance.
2. Position: a year of that fund — 1,000,000 spend postings, loaded through the same API in
   batches of 5,000 — then ``position`` timed with every month still open (everything summed
   from postings), and again once the twelve months are closed (closed months come from
   their close entries' totals).

PostgreSQL is ``CAREPOOL_TEST_POSTGRES_URL`` or the machine's server; every run works in a
schema of its own, dropped afterwards. ``python benchmarks/run.py ledger`` runs it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from carepool.ledger import Allocate, ClosePeriod, Ledger, LedgerRequest, migrate, parse_spec
from carepool.ledger.store.database import database_url

POSTGRES = os.environ.get("CAREPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WRITERS = 8
SECONDS = 10.0
PLACES = [f"E0800000{i}" for i in range(1, 10)] + ["E08000010"]
SERVICES_PER_PARTNER = 25
TARGET_PER_SECOND = 2_000
YEAR_POSTINGS = 1_000_000
TARGET_POSITION_SECONDS = 1.0


def spec_data(fund: str) -> dict[str, Any]:
    partners = [{"id": "QOP", "name": "NHS GM", "kind": "nhs_commissioner"}]
    partners += [{"id": p, "name": f"Council {p}", "kind": "council"} for p in PLACES]
    users: list[dict[str, Any]] = [{"name": "b.admin", "roles": ["admin"]}]
    users += [{"name": f"b.{p['id']}", "partner": p["id"], "roles": ["finance"]} for p in partners]
    users += [{"name": "b.public", "roles": ["public"]}]
    lines = []
    for place in PLACES:
        for s in range(SERVICES_PER_PARTNER):
            lines.append(
                {"id": f"nhs{s}:{place}", "service": f"nhs{s}", "place": place, "partner": "QOP"}
            )
            lines.append(
                {"id": f"la{s}:{place}", "service": f"la{s}", "place": place, "partner": place}
            )
    return {
        "fund": {"id": fund, "name": "Benchmark fund", "year": "2026-27", "host": "QOP"},
        "partners": partners,
        "users": users,
        "lines": lines,
        "rules": [
            {
                "name": "floor",
                "kind": "floor",
                "scope": {"service": "nhs0"},
                "floor_pence": 1,
                "reason": "a floor, so rules are checked",
            },
            {"name": "cross", "kind": "virement", "across": "service", "reason": "approval"},
        ],
    }


def open_fund(ledger: Ledger) -> tuple[str, list[dict[str, Any]]]:
    fund = f"bench-{uuid.uuid4().hex[:8]}"
    data = spec_data(fund)
    ledger.open_fund(parse_spec(data, "benchmark"), actor="b.admin", request_id="open")
    partners = [p["id"] for p in data["partners"]]
    big = 10**13
    ledger.submit(
        fund,
        [
            LedgerRequest("contribute", f"b.{p}", f"c-{p}", {"partner": p, "amount_pence": big})
            for p in partners
        ],
    )
    lines = data["lines"]
    ledger.post(
        fund,
        Allocate(allocations=[(line["id"], big * len(partners) // len(lines)) for line in lines]),
        actor="b.QOP",
        request_id="alloc",
    )
    return fund, lines


@dataclass(frozen=True)
class WriterResult:
    requests: int
    replayed: int
    seconds: float


def writer(
    url: str,
    schema: str | None,
    fund: str,
    lines: list[dict[str, Any]],
    w: int,
    batch: int,
    seconds: float,
    queue: Any,
) -> None:
    try:
        queue.put(_write(url, schema, fund, lines, w, batch, seconds))
    except Exception as exc:  # reported by the parent, which would otherwise wait forever
        queue.put(exc)


def login(url: str, user: str) -> str:
    """``url`` as the PostgreSQL login ``user``, a writer, made if new: on PostgreSQL the
    ledger takes who acts from the login, and the database checks every entry's actor."""
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        known = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :user"), {"user": user}
        ).first()
        if known is None:
            connection.exec_driver_sql(f'CREATE ROLE "{user}" LOGIN')
        connection.exec_driver_sql(f'GRANT carepool_writer TO "{user}"')
    engine.dispose()
    return make_url(database_url(url)).set(username=user).render_as_string(hide_password=False)


def _request(w: int, k: int, mine: list[dict[str, Any]], batch: int) -> LedgerRequest:
    """Writer ``w``'s ``k``-th request; every 20th repeats one from the previous transaction
    (or, one at a time, the one before), as a client retrying after a lost reply would."""
    j = k - batch if k % 20 == 19 and k >= batch else k
    line = mine[j % len(mine)]
    return LedgerRequest(
        "spend",
        f"b.{line['partner']}",
        f"w{w}-{j}",
        {"line": line["id"], "amount_pence": 100 + j % 1000, "period": "2026-05"},
    )


def _mine(lines: list[dict[str, Any]], w: int, partner: str | None = None) -> list[dict[str, Any]]:
    """Writer ``w``'s share of ``partner``'s lines (or of all lines)."""
    theirs = [line for line in lines if partner is None or line["partner"] == partner]
    return [line for i, line in enumerate(theirs) if i % WRITERS == w]


def _partner(w: int) -> str:
    """The partner writer process ``w`` is a finance officer of: one login each."""
    return (["QOP", *PLACES])[w]


def _write(
    url: str,
    schema: str | None,
    fund: str,
    lines: list[dict[str, Any]],
    w: int,
    batch: int,
    seconds: float,
) -> WriterResult:
    ledger = Ledger.connect(login(url, f"b.{_partner(w)}"), schema=schema)
    mine = _mine(lines, 0, _partner(w))
    started = time.perf_counter()
    sent = replayed = k = 0
    while time.perf_counter() - started < seconds:
        requests = [_request(w, k + i, mine, batch) for i in range(batch)]
        k += batch
        receipts = ledger.submit(fund, requests)
        sent += len(receipts)
        replayed += sum(r.replayed for r in receipts)
    ledger.close()
    return WriterResult(sent, replayed, time.perf_counter() - started)


def _write_thread(
    ledger: Ledger, fund: str, lines: list[dict[str, Any]], w: int, results: list[WriterResult]
) -> None:
    mine = _mine(lines, w, "QOP")
    started = time.perf_counter()
    sent = replayed = 0
    while time.perf_counter() - started < SECONDS:
        receipt = ledger.post_one(fund, _request(w, sent, mine, 1))
        sent += 1
        replayed += receipt.replayed
    results.append(WriterResult(sent, replayed, time.perf_counter() - started))


def warm_up(ledger: Ledger, fund: str, lines: list[dict[str, Any]]) -> None:
    """A first day's postings, then ANALYZE, as autovacuum does on a live server."""
    for start in range(0, 20_000, 1_000):
        ledger.submit(
            fund,
            [
                LedgerRequest(
                    "spend",
                    f"b.{lines[k % len(lines)]['partner']}",
                    f"warm-{k}",
                    {"line": lines[k % len(lines)]["id"], "amount_pence": 1, "period": "2026-04"},
                )
                for k in range(start, start + 1_000)
            ],
        )
    with ledger.engine.begin() as connection:
        connection.execute(text("ANALYZE journal"))
        connection.execute(text("ANALYZE postings"))


def _processes(url: str, schema: str | None, fund: str, lines: Any, batch: int) -> list[Any]:
    queue: Any = mp.get_context("fork").Queue()
    processes = [
        mp.get_context("fork").Process(
            target=writer, args=(url, schema, fund, lines, w, batch, SECONDS, queue)
        )
        for w in range(WRITERS)
    ]
    for p in processes:
        p.start()
    results = [queue.get() for _ in processes]
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        raise SystemExit(f"a writer failed: {failures[0]!r}")
    for p in processes:
        p.join()
    return results


def _threads(ledger: Ledger, fund: str, lines: list[dict[str, Any]]) -> list[WriterResult]:
    results: list[WriterResult] = []
    threads = [
        threading.Thread(target=_write_thread, args=(ledger, fund, lines, w, results))
        for w in range(WRITERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(results) != WRITERS:
        raise SystemExit("a writer thread failed (its traceback is above)")
    return results


def throughput(url: str, schema: str | None, how: str, batch: int = 1) -> None:
    """``how``: "threads" (one process, group commit) or "processes"."""
    ledger = Ledger.connect(url, schema=schema)
    fund, lines = open_fund(ledger)
    warm_up(ledger, fund, lines)
    before = ledger.verify(fund).entries
    started = time.perf_counter()
    if how == "threads":  # one authenticated login, as one officer's busy client would be
        with Ledger.connect(login(url, "b.QOP"), schema=schema) as officer:
            results = _threads(officer, fund, lines)
    else:
        results = _processes(url, schema, fund, lines, batch)
    wall = time.perf_counter() - started
    posted = sum(r.requests - r.replayed for r in results)
    verified = time.perf_counter()
    check = ledger.verify(fund)
    verified = time.perf_counter() - verified
    position = ledger.position(fund, actor="b.public")
    anomalies = []
    if not check.ok:
        anomalies.append(f"chain breaks at {check.first_bad_entry}")
    if check.entries - before != posted:
        anomalies.append(f"{check.entries - before} entries for {posted} requests")
    if not position.totals["balanced"]:
        anomalies.append("books do not balance")
    rate = posted / wall
    if how == "threads":
        label = (
            f"{WRITERS} writer threads in one process logged in as one officer, one request "
            "per call (group commit)"
        )
    else:
        per = "one request per transaction" if batch == 1 else f"batches of {batch} requests"
        label = f"{WRITERS} writer processes, each its own login, {per}"
    print(
        f"  PostgreSQL, {label}: {posted:,} postings in {wall:.1f} s = "
        f"{rate:,.0f} postings/s (target {TARGET_PER_SECOND:,}, "
        f"ratio {rate / TARGET_PER_SECOND:.2f}); "
        f"{sum(r.replayed for r in results):,} retries answered from the first result; "
        f"anomalies: {', '.join(anomalies) or 'none'}; verify (with replay) of "
        f"{check.entries:,} entries took {verified:.1f} s"
    )
    ledger.close()


def year_position(url: str, schema: str | None, label: str) -> None:
    ledger = Ledger.connect(url, schema=schema)
    fund, lines = open_fund(ledger)
    periods = ledger.context(fund).periods
    started = time.perf_counter()
    chunk = 5_000
    for start in range(0, YEAR_POSTINGS, chunk):
        requests = []
        for k in range(start, min(start + chunk, YEAR_POSTINGS)):
            line = lines[k % len(lines)]
            requests.append(
                LedgerRequest(
                    "spend",
                    f"b.{line['partner']}",
                    f"y{k}",
                    {
                        "line": line["id"],
                        "amount_pence": 1 + k % 9_999,
                        "period": periods[k * 12 // YEAR_POSTINGS],
                    },
                )
            )
        ledger.submit(fund, requests)
    load = time.perf_counter() - started
    times = []
    for _ in range(5):
        t = time.perf_counter()
        position = ledger.position(fund, actor="b.public")
        times.append(time.perf_counter() - t)
    expected = sum(1 + k % 9_999 for k in range(YEAR_POSTINGS))
    assert position.totals["actual_pence"] == expected
    median = statistics.median(times)
    print(
        f"  {label}: a year of {YEAR_POSTINGS:,} spend postings on {len(lines)} lines, months open "
        f"(loaded in {load:.0f} s, {YEAR_POSTINGS / load:,.0f} postings/s "
        f"in batches of {chunk:,}); "
        f"position runs {', '.join(f'{t:.2f}' for t in times)} s, median {median:.2f} s "
        f"(target {TARGET_POSITION_SECONDS:.0f} s, ratio {median / TARGET_POSITION_SECONDS:.2f})"
    )
    for period in periods:
        ledger.post(fund, ClosePeriod(period=period), actor="b.QOP", request_id=f"close-{period}")
    closed = []
    for _ in range(5):
        t = time.perf_counter()
        position = ledger.position(fund, actor="b.public")
        closed.append(time.perf_counter() - t)
    assert position.totals["actual_pence"] == expected
    print(
        f"  {label}: the same year with its twelve months closed: position runs "
        f"{', '.join(f'{t:.3f}' for t in closed)} s, median {statistics.median(closed):.3f} s "
        f"(ratio {statistics.median(closed) / TARGET_POSITION_SECONDS:.2f})"
    )
    t = time.perf_counter()
    check = ledger.verify(fund)
    print(
        f"  {label}: verify of {check.entries:,} entries: "
        f"{time.perf_counter() - t:.1f} s, ok={check.ok}"
    )
    ledger.close()


def main() -> None:
    engine = create_engine(database_url(POSTGRES))
    schema = f"carepool_bench_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    migrate(POSTGRES, schema=schema)
    try:
        print(
            "Ledger throughput (postings per second; each writer logged in as its own "
            "database role, actors checked by the database, requests recorded for replay) "
            "and position of a year"
        )
        throughput(POSTGRES, schema, "threads")
        throughput(POSTGRES, schema, "processes", batch=1)
        throughput(POSTGRES, schema, "processes", batch=50)
        if "--no-year" not in sys.argv:
            year_position(POSTGRES, schema, "PostgreSQL")
            with __import__("tempfile").TemporaryDirectory() as tmp:
                year_position(f"sqlite:///{Path(tmp) / 'ledger.sqlite'}", None, "SQLite")
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    main()
