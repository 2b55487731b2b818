"""What flows cost on the emulator: API calls, Pipedrive tokens and the engine's memory.

Run ``python benchmarks/bench_flows.py`` (about five minutes with the defaults, most
of it the memory runs under tracemalloc). Every count comes from the emulators' own
request logs; the scenarios are the cost tests' (``tests/flows_cost/scenarios.py``):

* filter flow: an initial Pipedrive-filter run over ``--persons`` persons, all in one
  filter (with the awkward cases of ``tests/flows_cost/accounts.py``), the run after
  it, an idle run and the daily full pass; the initial run is checked against the
  issue's bound ceil(N/500) + ceil(N/500) + ceil(N/1000) + the constant calls;
* incremental: the run after k persons changed in a settled flow, for each k in
  ``--changes``, and for the middle k over twice as many persons;
* webhooks: the same changes delivered as webhooks (near-instant), then the next run;
* tag flow: a Mailchimp tag of ``--persons`` members synced to Pipedrive: the initial
  run, idle runs, and a run after N/100 profile edits and N/100 new members;
* memory: the engine's tracemalloc peak during an initial filter run for each size in
  ``--memory``, the emulator serving from another process (see ``engine_peak``).

The table goes to stdout; the figures go to ``--json`` (default
``benchmarks/results/flows.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/
from tests.flows_cost.accounts import FILTER_CASES, TAG_CASES
from tests.flows_cost.scenarios import (
    CONSTANT_CALLS,
    FilterStory,
    MemoryPeak,
    Spent,
    TagStory,
    engine_peak,
    incremental,
    initial_bound,
    near_instant,
)

_DAY = 24 * 3600
_RESULTS = Path(__file__).resolve().parent / "results" / "flows.json"


def filter_runs(persons: int) -> list[Spent]:
    """The filter flow's initial run, the run after it, an idle run, the daily full pass."""
    story = FilterStory.start(persons)
    runs = [story.run("filter: initial")]
    story.later()
    runs.append(story.run("filter: the run after it"))
    story.later()
    runs.append(story.run("filter: idle"))
    story.later(_DAY)
    runs.append(story.run("filter: idle daily full pass"))
    return runs


def incremental_runs(persons: int, changes: Sequence[int]) -> list[Spent]:
    """Runs after k changes for each k, then the middle k over twice the persons."""
    runs = [_named(incremental(persons, k), f"incremental: {k} changed") for k in changes]
    middle = changes[len(changes) // 2]
    runs.append(_named(incremental(2 * persons, middle), f"incremental: {middle} changed"))
    return runs


def webhook_runs(persons: int, changed: int) -> list[Spent]:
    """Changes handled by webhooks, then the scheduled run after them."""
    events, after = near_instant(persons, changed)
    return [
        _named(events, f"webhooks: {changed} changes delivered"),
        _named(after, "webhooks: the run after them"),
    ]


def tag_runs(members: int) -> list[Spent]:
    """The tag flow's initial run, the runs after it, and a run after N/100 edits and joins."""
    story = TagStory.start(members)
    runs = [story.run("tag: initial")]
    for name in ("tag: the run after it", "tag: idle"):
        story.later()
        runs.append(story.run(name))
    changed = members // 100
    story.change(changed)
    story.later()
    runs.append(story.run(f"tag: {changed} edited + {changed} new", changed=2 * changed))
    return runs


def _named(spent: Spent, scenario: str) -> Spent:
    return Spent(
        scenario, spent.contacts, spent.changed, spent.pipedrive, spent.mailchimp, spent.report
    )


def _operations(spent: Spent) -> str:
    pipedrive = (f"{op} {c.requests}" for op, c in sorted(spent.pipedrive.items()))
    mailchimp = (f"{op} {c.requests}" for op, c in sorted(spent.mailchimp.items()))
    return f"PD: {', '.join(pipedrive) or '-'} | MC: {', '.join(mailchimp) or '-'}"


def print_cases() -> None:
    """The awkward cases the accounts hold, per hundred contacts."""
    for name, cases in (("filter account", FILTER_CASES), ("tag account", TAG_CASES)):
        print(f"{name}, cases per hundred persons or members:")
        print("  " + "; ".join(f"{case}: {n}" for case, n in cases.items()))
    print()


def print_calls(rows: Sequence[Spent]) -> None:
    """The calls table, then each row's calls by operation."""
    header = (
        f"{'scenario':<38} {'N':>7} {'k':>5} {'PD calls':>8} {'MC calls':>8} "
        f"{'writes':>6} {'tokens':>7} {'tok/contact':>11}"
    )
    print(header)
    print("-" * len(header))
    for spent in rows:
        changed = "" if spent.changed is None else str(spent.changed)
        print(
            f"{spent.scenario:<38} {spent.contacts:>7} {changed:>5} {spent.pipedrive_calls:>8} "
            f"{spent.mailchimp_calls:>8} {sum(spent.writes.values()):>6} {spent.tokens:>7} "
            f"{spent.tokens_per_contact:>11.4f}"
        )
    print()
    for spent in rows:
        print(f"{spent.scenario}: {_operations(spent)}")


def print_bound(initial: Spent) -> dict[str, Any]:
    """Check the initial filter run against the issue's bound; return the figures."""
    n = initial.contacts
    checks = {
        "getPersons": (initial.calls("getPersons"), math.ceil(n / 500)),
        "postListsId": (initial.calls("postListsId"), math.ceil(n / 500)),
        "getListsIdMembers": (initial.calls("getListsIdMembers"), math.ceil(n / 1000) + 1),
        "total": (initial.calls_total, initial_bound(n)),
    }
    print()
    print(f"Initial filter run of N = {n} against the bound (made / allowed):")
    for name, (made, allowed) in checks.items():
        print(f"  {name:<18} {made:>5} / {allowed}")
    print(
        "  the constant calls: " + "; ".join(f"{op} ({why})" for op, why in CONSTANT_CALLS.items())
    )
    return {"persons": n, "constant": len(CONSTANT_CALLS), **checks}


def print_memory(peaks: Sequence[MemoryPeak]) -> None:
    """The memory table, each peak also as a multiple of the first."""
    print()
    header = f"{'persons':>8} {'synced':>8} {'peak MB':>8} {'x first':>8} {'retained KB':>12}"
    print(header)
    print("-" * len(header))
    for peak in peaks:
        print(
            f"{peak.persons:>8} {peak.synced:>8} {peak.peak_bytes / 1e6:>8.2f} "
            f"{peak.peak_bytes / peaks[0].peak_bytes:>8.2f} {peak.retained_bytes / 1e3:>12.1f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario, print the tables and write the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000, help="N (default 10000)")
    parser.add_argument(
        "--changes", type=int, nargs="+", default=[10, 100, 1_000], help="the k to try"
    )
    parser.add_argument(
        "--memory",
        type=int,
        nargs="*",
        default=[10_000, 100_000],
        help="sizes of the memory runs (none: skip them)",
    )
    parser.add_argument("--json", type=Path, default=_RESULTS, help="where the figures go")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    rows = [
        *filter_runs(args.persons),
        *incremental_runs(args.persons, args.changes),
        *webhook_runs(args.persons, args.changes[len(args.changes) // 2]),
        *tag_runs(args.persons),
    ]
    print_cases()
    print_calls(rows)
    bound = print_bound(rows[0])
    peaks = [engine_peak(size) for size in args.memory]
    if peaks:
        print_memory(peaks)
    seconds = time.perf_counter() - began
    print(f"\n({seconds:.0f} s)")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    figures = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "seconds": round(seconds, 1),
        "runs": [spent.row() for spent in rows],
        "cases_per_hundred": {"filter account": FILTER_CASES, "tag account": TAG_CASES},
        "initial_bound": bound,
        "memory": [peak.row() for peak in peaks],
    }
    args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
