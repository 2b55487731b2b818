"""pdmc logs through ``logging`` under the ``pdmc`` logger and prints nothing by itself.

Only the command line (``cli.py``, ``_cli_accounts.py``) and the demo it runs
(``_demo.py``) write to the terminal; the library leaves output to the application's
logging configuration.
"""

from __future__ import annotations

import ast
import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pdmc.emulator import Emulator, FaultKind
from pdmc.flows import Flow, PipedriveFiltersTrigger, SyncEngine
from pdmc.mapping import Direction
from pdmc.storage import MemoryStore

SRC = Path(__file__).resolve().parents[1] / "src" / "pdmc"
TERMINAL_MODULES = frozenset({"cli.py", "_cli_accounts.py", "_demo.py"})
"""The modules whose job is to talk to a terminal."""

ROOT_LOGGER_CALLS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "basicConfig"}
)
"""``logging.<name>(...)``: logs on (or configures) the root logger, not pdmc's."""


@functools.cache
def modules() -> tuple[tuple[str, ast.Module], ...]:
    """Every module under src/pdmc, by its path relative to the package, parsed (once)."""
    return tuple(
        (path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(SRC.rglob("*.py"))
    )


def calls(tree: ast.Module) -> Iterator[ast.Call]:
    """Every call in the module."""
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def is_logging_attribute(node: ast.expr, names: frozenset[str]) -> bool:
    """Whether ``node`` is ``logging.<one of names>``."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr in names
        and isinstance(node.value, ast.Name)
        and node.value.id == "logging"
    )


def test_the_scan_reads_every_module() -> None:
    """The static checks below see the whole package, terminal modules included."""
    found = {name for name, _ in modules()}
    assert {"__init__.py", "flows/_engine.py", "clients/_http.py"} <= found
    assert {name for name in found if name.split("/")[-1] in TERMINAL_MODULES} == TERMINAL_MODULES


def test_only_the_command_line_prints() -> None:
    """No module outside the command line calls ``print`` or touches sys.stdout or sys.stderr."""
    offenders = []
    for name, tree in modules():
        if name in TERMINAL_MODULES:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "print":
                    offenders.append(f"{name}:{node.lineno} print(...)")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in {"stdout", "stderr"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                offenders.append(f"{name}:{node.lineno} sys.{node.attr}")
    assert offenders == []


def test_every_logger_is_under_pdmc() -> None:
    """Each ``logging.getLogger`` call names a logger under ``pdmc``; none logs on the root."""
    loggers, offenders = [], []
    for name, tree in modules():
        for call in calls(tree):
            if is_logging_attribute(call.func, frozenset({"getLogger"})):
                [argument] = call.args or [None]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    loggers.append(argument.value)
                    if argument.value != "pdmc" and not argument.value.startswith("pdmc."):
                        offenders.append(f"{name}:{call.lineno} getLogger({argument.value!r})")
                elif not (isinstance(argument, ast.Name) and argument.id == "__name__"):
                    offenders.append(f"{name}:{call.lineno} getLogger(<not a pdmc name>)")
            elif is_logging_attribute(call.func, ROOT_LOGGER_CALLS):
                assert isinstance(call.func, ast.Attribute)
                offenders.append(f"{name}:{call.lineno} logging.{call.func.attr}(...)")
    assert loggers, "the scan found no logger at all"
    assert offenders == []


@pytest.fixture
def emulator() -> Emulator:
    """A small seeded account."""
    emulator = Emulator()
    emulator.seed(contacts=60, seed=3)
    return emulator


def test_a_sync_logs_under_pdmc_and_prints_nothing(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flow's runs (one retried after a 429) log records under pdmc.*, without a secret,
    and write nothing to stdout or stderr."""
    caplog.set_level(logging.DEBUG)
    engine = SyncEngine(
        emulator.pipedrive_client(),
        emulator.mailchimp_client(),
        MemoryStore(clock=emulator.clock),
    )
    audience_id = emulator.mailchimp.default_audience_id
    with emulator.pipedrive_client() as pipedrive:
        filter_id = pipedrive.list_filters()[0].id
    flow = Flow(
        id="logged",
        name="Logged",
        trigger=PipedriveFiltersTrigger([filter_id]),
        pairs=engine.default_pairs(Direction.PD_TO_MC, audience_id),
        audience_id=audience_id,
        tag="logged",
    )
    engine.create_flow(flow, confirm_subscribed=True)
    engine.activate(flow.id)
    emulator.faults.script(FaultKind.RATE_LIMIT, service="mailchimp")
    [report] = engine.run_due()
    emulator.advance(flow.interval.total_seconds())
    engine.run_due()

    assert report.counts["created"] + report.counts["updated"] > 0
    ours = [record for record in caplog.records if record.name.split(".")[0] == "pdmc"]
    levels = {record.levelno for record in ours}
    assert {logging.DEBUG, logging.INFO} <= levels, "requests at DEBUG, the retry at INFO"
    assert any("retrying" in record.getMessage() for record in ours)
    secrets = {
        emulator.pipedrive.default_company.api_token.reveal(),
        emulator.mailchimp.default_account.api_key.reveal(),
    }
    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert not any(secret in messages for secret in secrets)
    assert capsys.readouterr() == ("", "")


def test_pdmc_prints_nothing_when_the_application_configured_no_logging() -> None:
    """With no logging set up, a pdmc warning goes nowhere instead of to stderr."""
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging, pdmc; logging.getLogger('pdmc.engine').warning('quiet please')",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr == ""
