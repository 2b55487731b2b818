"""`pdmc demo`: the whole job on the emulator, checked through its printed story."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from pdmc._demo import FLOW_NAMES, run_demo
from pdmc.cli import main

STORY_STEPS = (
    "Four flows, one per built-in trigger",
    "Initial syncs",
    "A new Mailchimp subscriber appears in Pipedrive",
    "A deal reaches 'Contract signed'; its person lands in Mailchimp with a tag",
    "A person's email changes in Pipedrive; the member follows",
    "A member unsubscribes; pdmc never subscribes them again",
    "An idle re-run writes nothing",
    "Summary",
)


def test_the_demo_names_every_flow_and_every_story_step(tmp_path: Path) -> None:
    """The output names the four flows and each story step, and every check passed."""
    out = io.StringIO()
    status = run_demo(contacts=300, store=str(tmp_path / "demo.sqlite3"), out=out)
    text = out.getvalue()
    assert status == 0, text
    for step in STORY_STEPS:
        assert f"== {step}" in text
    for flow_id in FLOW_NAMES:
        assert f"\n   {flow_id:<12} " in text.split("== Summary")[1]
    assert "[FAILED]" not in text
    assert text.count("[ok]") == 6


def test_the_demo_output_stays_readable_in_a_file(tmp_path: Path) -> None:
    """Piped to a file, the demo prints no control characters and fits 100 columns."""
    out = io.StringIO()
    run_demo(contacts=200, store="memory", out=out)
    for line in out.getvalue().splitlines():
        assert "\r" not in line
        assert "\x1b" not in line
        assert len(line) <= 100, line


def test_python_dash_m_pdmc_demo_exits_zero(tmp_path: Path) -> None:
    """`python -m pdmc demo` runs in a fresh process, writes its SQLite file and exits 0."""
    store = tmp_path / "state.sqlite3"
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "pdmc", "demo", "--contacts", "150", "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert store.exists()
    assert "== Summary" in done.stdout


def test_the_demo_command_refuses_a_negative_contact_count() -> None:
    """A bad argument is a usage error (exit 2), not a crash."""
    assert main(["demo", "--contacts", "-5"]) == 2
