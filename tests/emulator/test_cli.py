"""`pdmc emulator serve`: seeding, serving over HTTP, the banner, and stopping on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pdmc.cli import main
from pdmc.clients import MailchimpClient, PipedriveClient, RetryPolicy

SRC = Path(__file__).resolve().parents[2] / "src"
STARTUP_LIMIT = 60.0  # seconds to wait for the command to answer before giving up


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _value_after(lines: list[str], label: str) -> str:
    return next(line.split(label, 1)[1].strip() for line in lines if label in line)


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], list[str], int, int]]:
    """`python -m pdmc emulator serve` on two free ports, its banner read, stopped after."""
    pipedrive_port, mailchimp_port = _free_ports(2)
    command = [
        sys.executable, "-m", "pdmc", "emulator", "serve", "--contacts", "40", "--seed", "9",
        "--pipedrive-port", str(pipedrive_port), "--mailchimp-port", str(mailchimp_port),
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    banner: list[str] = []
    try:
        assert process.stdout is not None
        while not banner or "Ctrl-C" not in banner[-1]:
            line = process.stdout.readline()
            assert line, f"serve ended early: {process.stderr.read() if process.stderr else ''}"
            banner.append(line)
        yield process, banner, pipedrive_port, mailchimp_port
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _poll(url: str) -> httpx.Response:
    """GET ``url`` until the server answers (any status), or fail after the limit."""
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_answers_pdmc_clients_over_http_until_ctrl_c(served) -> None:
    """The served, seeded services answer pdmc's clients; Ctrl-C stops the command cleanly."""
    process, banner, pipedrive_port, mailchimp_port = served
    pipedrive_url = f"http://127.0.0.1:{pipedrive_port}"
    mailchimp_url = f"http://127.0.0.1:{mailchimp_port}"
    assert any(pipedrive_url in line for line in banner)
    assert any(mailchimp_url in line for line in banner)
    assert any("emulator's own" in line for line in banner)
    assert _poll(f"{pipedrive_url}/v1/users/me").status_code == 401  # up, and wants a token

    token, key = _value_after(banner, "api token:"), _value_after(banner, "api key:")
    audience = _value_after(banner, "audience:")
    retry = RetryPolicy.no_wait()
    with PipedriveClient(token, base_url=pipedrive_url, retry=retry) as pipedrive:
        persons = list(pipedrive.list_persons())
    with MailchimpClient(key, base_url=mailchimp_url, retry=retry) as mailchimp:
        # A listing leaves archived members out unless asked for them.
        members = [
            *mailchimp.list_members(audience),
            *mailchimp.list_members(audience, status="archived"),
        ]
    counts = banner[0].split(":", 1)[1].split()
    assert len(persons) == int(counts[0])
    assert len(members) == int(counts[3])

    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=STARTUP_LIMIT)
    assert process.returncode == 0
    assert "stopped" in out


def test_serve_stops_on_sigterm_too(served) -> None:
    """A service manager's SIGTERM stops the command as Ctrl-C does."""
    process, _, _, _ = served
    process.terminate()
    out, _ = process.communicate(timeout=STARTUP_LIMIT)
    assert process.returncode == 0
    assert "stopped" in out


def test_a_port_in_use_is_reported_not_raised(capsys) -> None:
    """When a port is taken, serve says so on stderr and exits with status 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(
            ["emulator", "serve", "--contacts", "3", "--pipedrive-port", str(port),
             "--mailchimp-port", "0"]
        )  # fmt: skip
    assert status == 1
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["emulator", "serve", "--pipedrive-port", "70000"], "is not a port"),
        (["emulator", "serve", "--contacts", "-4"], "is negative"),
        (["emulator", "serve", "--seed", "seven"], "invalid int value"),
        (["emulator", "launch"], "invalid choice"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, capsys) -> None:
    """A bad port, count, seed or command exits with status 2 and says what was wrong."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "listed"), [([], "emulator"), (["emulator"], "serve")])
def test_a_missing_command_prints_help(argv, listed, capsys) -> None:
    """`pdmc` or `pdmc emulator` alone prints the commands it offers, exit status 2."""
    assert main(argv) == 2
    assert listed in capsys.readouterr().err


def test_help_exits_cleanly(capsys) -> None:
    """`pdmc emulator serve --help` describes the options and exits with status 0."""
    assert main(["emulator", "serve", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ("--host", "--pipedrive-port", "--mailchimp-port", "--contacts", "--seed"):
        assert option in help_text
