"""Memory and time of seeding: the generator alone, and contacts loaded into the emulator.

Run ``python benchmarks/bench_emulator_seed.py`` (about ten minutes with the defaults;
tracemalloc slows allocation-heavy code roughly tenfold). It measures:

* generator: the tracemalloc peak while generating N contacts and dropping each one,
  for each N in ``--generator`` (default 100,000 and 1,000,000). A flat peak means
  the generator's memory does not grow with N;
* state: the bytes the emulator retains per contact after loading ``--state``
  contacts (default 100,000) with ``Emulator.seed``: tracemalloc's traced memory after
  minus before, divided by the contacts (persons and members together);
* full load: ``--full`` contacts (default 1,000,000; 0 skips it) loaded without
  tracemalloc, with the wall time and the growth of the process's resident memory.

``--json`` prints the figures as one JSON object instead of a table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pdmc.emulator import Emulator, SeedSpec, generate_contacts

SEED = 2026


def _resident_bytes() -> int:
    """The process's resident memory now (Linux ``/proc``; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except OSError:
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def generator_peak(contacts: int) -> dict[str, Any]:
    """Peak bytes allocated while generating ``contacts`` contacts without keeping them."""
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    began = time.perf_counter()
    for _ in generate_contacts(SeedSpec(contacts=contacts, seed=SEED)):
        pass
    seconds = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] - start
    tracemalloc.stop()
    return {"contacts": contacts, "peak_bytes": peak, "seconds_traced": round(seconds, 1)}


def state_bytes(contacts: int) -> dict[str, Any]:
    """Bytes the emulator keeps per contact, person and member after seeding ``contacts``."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    emulator = Emulator()
    summary = emulator.seed(contacts=contacts, seed=SEED)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return {
        "contacts": contacts,
        "persons": summary.persons,
        "members": summary.members,
        "deals": summary.deals,
        "retained_bytes": retained,
        "bytes_per_contact": round(retained / contacts),
        "bytes_per_record": round(retained / (summary.persons + summary.members)),
        "emulator": emulator,  # kept alive until measured; dropped by the caller
    }


def full_load(contacts: int) -> dict[str, Any]:
    """Wall time and resident-memory growth of seeding ``contacts`` without tracemalloc."""
    gc.collect()
    before = _resident_bytes()
    began = time.perf_counter()
    emulator = Emulator()
    summary = emulator.seed(contacts=contacts, seed=SEED)
    seconds = time.perf_counter() - began
    grown = _resident_bytes() - before
    result = {
        "contacts": contacts,
        "persons": summary.persons,
        "members": summary.members,
        "seconds": round(seconds, 1),
        "microseconds_per_contact": round(seconds / contacts * 1e6),
        "resident_growth_bytes": grown,
        "resident_bytes_per_contact": round(grown / contacts),
    }
    del emulator
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--state", type=int, default=100_000)
    parser.add_argument("--full", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {"generator": [generator_peak(n) for n in args.generator]}
    if args.state:
        state = state_bytes(args.state)
        del state["emulator"]
        figures["state"] = state
    if args.full:
        figures["full_load"] = full_load(args.full)

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for row in figures["generator"]:
        print(
            f"generator  {row['contacts']:>9,} contacts: peak {row['peak_bytes']:>9,} bytes "
            f"({row['peak_bytes'] / row['contacts']:.3f} bytes/contact)"
        )
    if "state" in figures:
        state = figures["state"]
        print(
            f"state      {state['contacts']:>9,} contacts ({state['persons']:,} persons, "
            f"{state['members']:,} members, {state['deals']:,} deals): "
            f"{state['bytes_per_contact']:,} bytes/contact, "
            f"{state['bytes_per_record']:,} bytes per person or member"
        )
    if "full_load" in figures:
        full = figures["full_load"]
        print(
            f"full load  {full['contacts']:>9,} contacts: {full['seconds']} s "
            f"({full['microseconds_per_contact']} us/contact), resident memory "
            f"+{full['resident_growth_bytes'] / 2**20:,.0f} MiB "
            f"({full['resident_bytes_per_contact']:,} bytes/contact)"
        )


if __name__ == "__main__":
    main()
