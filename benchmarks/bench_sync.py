"""Sync cost against the lower bound and the naive way, for N = 1,000, 10,000 and 100,000.

Run ``python benchmarks/bench_sync.py`` (about ten minutes with the defaults, most of
it the naive runs at 100,000). For each N in ``--sizes``, both directions run on a
fresh emulator (the scenarios are in ``tests/flows_cost/sync_bench.py``): a
Pipedrive-filter flow to Mailchimp and a Mailchimp-tag flow to Pipedrive, each
through its initial sync, the run after it, an idle run and a run after 1 % of the
contacts changed; then the same jobs done the naive way (one upsert per contact).

One table shows, per job: pdmc's calls and Pipedrive tokens, per contact and over
the job's lower bound; the naive way's calls and tokens over pdmc's; the 429s and
403s pdmc met, the most Mailchimp connections it held, the share of Pipedrive's
request rate it used; the days of daily token budget the job costs; and pdmc's CPU
time per contact. Below it, the engine's peak memory for each N in ``--memory``
(the emulator serving from another process). The figures go to ``--json``
(default ``benchmarks/results/sync.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/
from tests.flows_cost.scenarios import MemoryPeak, engine_peak
from tests.flows_cost.sync_bench import BOUNDS, PLAN, Measured, measure_size

_RESULTS = Path(__file__).resolve().parent / "results" / "sync.json"
_COLUMNS = (
    ("job", "<24"),
    ("N", ">7"),
    ("calls", ">6"),
    ("/contact", ">8"),
    ("bound", ">6"),
    ("x bound", ">7"),
    ("tokens", ">7"),
    ("tok/contact", ">11"),
    ("tok bound", ">9"),
    ("x bound", ">7"),
    ("naive calls", ">11"),
    ("naive/pdmc", ">10"),
    ("naive tokens", ">12"),
    ("naive/pdmc", ">10"),
    ("writes", ">6"),
    ("429", ">5"),
    ("403", ">3"),
    ("MC conn", ">7"),
    ("PD rate", ">7"),
    ("budget days", ">11"),
    ("CPU us/contact", ">14"),
)


def _cells(ours: Measured, naive: Measured) -> tuple[object, ...]:
    limits = ours.limits
    too_many = limits.burst_429 + limits.budget_429 + limits.mailchimp_429
    return (
        f"{ours.direction} {ours.job}",
        f"{ours.contacts:,}",
        ours.calls,
        f"{ours.calls / ours.per:.4f}",
        ours.bound.calls,
        f"{ours.calls_ratio:.2f}",
        ours.tokens,
        f"{ours.tokens / ours.per:.3f}",
        ours.bound.tokens,
        f"{ours.tokens_ratio:.2f}",
        naive.calls,
        f"{naive.calls / ours.calls:.2f}",
        naive.tokens,
        f"{naive.tokens / ours.tokens:.2f}",
        ours.writes,
        too_many,
        limits.forbidden,
        limits.mailchimp_connections,
        f"{limits.share:.0%}",
        f"{ours.budget_days:.3f}",
        f"{ours.cpu_seconds / ours.per * 1e6:.0f}",
    )


def print_table(rows: Sequence[Measured]) -> None:
    """One line per job and N: pdmc's figures, and the naive way's beside them."""
    naive = {(m.direction, m.job, m.contacts): m for m in rows if m.way == "naive"}
    header = " ".join(f"{name:{spec}}" for name, spec in _COLUMNS)
    print(header)
    print("-" * len(header))
    for ours in (m for m in rows if m.way == "pdmc"):
        cells = _cells(ours, naive[(ours.direction, ours.job, ours.contacts)])
        print(" ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(cells, _COLUMNS, strict=True)))


def print_memory(peaks: Sequence[MemoryPeak]) -> None:
    """The engine's peak memory per N, each as a multiple of the first."""
    for peak in peaks:
        print(
            f"engine peak memory, initial PD→MC run of {peak.persons:,}: "
            f"{peak.peak_bytes / 1e6:.2f} MB ({peak.peak_bytes / peaks[0].peak_bytes:.2f}x "
            f"the first; {peak.synced:,} persons synced)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every size, print the table and write the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="the N to run"
    )
    parser.add_argument(
        "--memory",
        type=int,
        nargs="*",
        default=[10_000, 100_000],
        help="N of the engine's memory runs (none: skip them)",
    )
    parser.add_argument("--json", type=Path, default=_RESULTS, help="where the figures go")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    rows = [measured for size in args.sizes for measured in measure_size(size)]
    peaks = [engine_peak(size) for size in args.memory]
    seconds = time.perf_counter() - began

    print(f"Pipedrive plan: {PLAN}, one seat; per contact = per changed contact in 1% rows")
    print_table(rows)
    print()
    print_memory(peaks)
    print("\nLower bounds (N contacts, W written, k changed):")
    for (direction, job), bound in BOUNDS.items():
        print(f"  {direction} {job}: {bound}")
    print(f"\n({seconds:.0f} s)")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    figures = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "seconds": round(seconds, 1),
        "pipedrive_plan": PLAN,
        "daily_token_budget": rows[0].daily_budget if rows else None,
        "bounds": {f"{direction} {job}": text for (direction, job), text in BOUNDS.items()},
        "runs": [measured.row() for measured in rows],
        "memory": [peak.row() for peak in peaks],
    }
    args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
