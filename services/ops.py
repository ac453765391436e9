"""Operator commands that read a service's own database (run beside the service)."""

from __future__ import annotations

import statistics

from services.common.config import Settings
from services.common.db import Database
from services.common.clock import SystemClock
from services.settlement import store


async def print_loss_latency(settings: Settings) -> int:
    db = Database(settings.db_url, store.metadata, store.MIGRATIONS, "settlement", SystemClock())
    try:
        rows = await db.read(store.halts)
    finally:
        await db.close()
    if not rows:
        print("no loss reports seen by settlement yet")
        return 0
    latencies = [(r.halted_wall_us - r.reported_wall_us) / 1000 for r in rows]
    print(f"{'report':<30} {'card':<12} {'loss -> refusing (ms)':>22}")
    for row, ms in zip(rows, latencies):
        print(f"{row.report_id:<30} {row.card_no:<12} {ms:>22.1f}")
    ordered = sorted(latencies)
    print(f"n={len(ordered)} p50={statistics.median(ordered):.1f} ms p99={ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms max={ordered[-1]:.1f} ms")
    return 0
