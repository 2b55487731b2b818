"""The ``pdmc`` command line.

``pdmc emulator serve`` seeds an emulated Pipedrive company and Mailchimp account and
serves both over HTTP on localhost until Ctrl-C, so that any HTTP client (pdmc's, a
vendor SDK, ``curl``) can talk to them. While it serves, the emulator's clock follows
real time, so rate-limit windows roll over and webhook retries fall due.
"""

# ruff: noqa: T201 - a command line prints to its terminal

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Final

from pdmc._cli_accounts import add_account_commands

if TYPE_CHECKING:
    from pdmc.emulator import Emulator, EmulatorServer, SeedSummary

__all__ = ["main"]

DEFAULT_PIPEDRIVE_PORT: Final = 7701
DEFAULT_MAILCHIMP_PORT: Final = 7702
_BANNER_WIDTH: Final = 11
_TICK_SECONDS: Final = 0.25


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pdmc`` command line with ``argv`` (``sys.argv[1:]`` by default).

    Returns the exit status: 0 on success, 1 when a command fails (a port already
    in use, say), 2 for a usage error (the message goes to stderr).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as leaving:  # argparse leaves after --help (0) and usage errors (2)
        return leaving.code if isinstance(leaving.code, int) else 2
    run: Callable[[argparse.Namespace], int] = getattr(args, "run", _usage_of(parser))
    return run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdmc", description="Keep contacts in sync between Pipedrive and Mailchimp."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_demo_command(commands)
    add_account_commands(commands, _usage_of)
    _add_emulator_commands(commands)
    return parser


def _add_demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the whole job on the emulator, as a short story",
        description=(
            "Build an emulated Pipedrive and Mailchimp with realistic contacts, create one "
            "flow of each built-in trigger, run the initial syncs, play a short story "
            "through webhooks and scheduled runs, and print a summary. No account and no "
            "network needed."
        ),
    )
    demo.add_argument(
        "--contacts", type=_count, default=2000, help="contacts to seed (%(default)s)"
    )
    demo.add_argument(
        "--store",
        default="pdmc-demo.sqlite3",
        help="SQLite file for the state, replaced if it exists, or 'memory' (%(default)s)",
    )
    demo.add_argument("--seed", type=int, default=7, help="seed of the data (%(default)s)")
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from pdmc._demo import run_demo  # noqa: PLC0415 - imported when used, so --help stays quick

    return run_demo(contacts=args.contacts, store=args.store, seed=args.seed)


def _add_emulator_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    emulator = commands.add_parser(
        "emulator",
        help="the emulated Pipedrive and Mailchimp",
        description="The emulated Pipedrive and Mailchimp that pdmc's tests and demos use.",
    )
    emulator.set_defaults(run=_usage_of(emulator))
    emulator_commands = emulator.add_subparsers(title="commands", metavar="COMMAND")
    serve = emulator_commands.add_parser(
        "serve",
        help="seed both services and serve them over HTTP until Ctrl-C",
        description=(
            "Seed an emulated Pipedrive company and Mailchimp account with realistic "
            "contacts, then serve both over HTTP until Ctrl-C. The credentials printed "
            "are the emulator's own and work nowhere else."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    serve.add_argument(
        "--pipedrive-port",
        type=_port,
        default=DEFAULT_PIPEDRIVE_PORT,
        help="port of the Pipedrive API (%(default)s; 0 picks a free one)",
    )
    serve.add_argument(
        "--mailchimp-port",
        type=_port,
        default=DEFAULT_MAILCHIMP_PORT,
        help="port of the Mailchimp API (%(default)s; 0 picks a free one)",
    )
    serve.add_argument(
        "--contacts", type=_count, default=1000, help="contacts to seed (%(default)s)"
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="seed of the generated data (%(default)s)"
    )
    serve.set_defaults(run=_serve)


def _usage_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """What a command without its subcommand does: show its help, exit status 2."""

    def usage(args: argparse.Namespace) -> int:
        del args
        parser.print_help(sys.stderr)
        return 2

    return usage


def _port(text: str) -> int:
    number = _count(text)
    if number > 65_535:  # noqa: PLR2004 - the largest TCP port
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return number


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return number


def _serve(args: argparse.Namespace) -> int:
    # Imported here so that `pdmc --help` stays quick.
    from pdmc.emulator import Emulator  # noqa: PLC0415

    with _stop_on_sigterm() as stop:
        try:
            emulator = Emulator()
            summary = emulator.seed(contacts=args.contacts, seed=args.seed)
            try:
                server = emulator.serve(
                    args.host,
                    pipedrive_port=args.pipedrive_port,
                    mailchimp_port=args.mailchimp_port,
                )
            except OSError as error:
                print(
                    f"pdmc emulator serve: cannot listen on {args.host}: {error}", file=sys.stderr
                )
                return 1
            with server:
                print(_banner(emulator, server, summary, args.seed), flush=True)
                _follow_real_time(emulator, stop)
        except KeyboardInterrupt:
            pass
    print("pdmc emulator: stopped", flush=True)
    return 0


def _banner(emulator: Emulator, server: EmulatorServer, summary: SeedSummary, seed: int) -> str:
    """What the user needs to connect: base URLs and the emulator's own credentials."""
    pad = " " * _BANNER_WIDTH
    return "\n".join(
        (
            f"pdmc emulator: {summary.persons} persons and {summary.members} members (seed {seed})",
            f"  {'Pipedrive':<{_BANNER_WIDTH}}{server.url_of(emulator.pipedrive)}",
            f"  {pad}api token: {emulator.pipedrive.default_company.api_token.reveal()}",
            f"  {'Mailchimp':<{_BANNER_WIDTH}}{server.url_of(emulator.mailchimp)}",
            f"  {pad}api key:   {emulator.mailchimp.default_account.api_key.reveal()}",
            f"  {pad}audience:  {emulator.mailchimp.default_audience_id}",
            "These credentials are the emulator's own: they work here and nowhere else.",
            "Press Ctrl-C to stop.",
        )
    )


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """An event that SIGTERM sets (a service manager stopping us), while in the block."""
    stop = threading.Event()

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_terminate)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _follow_real_time(emulator: Emulator, stop: threading.Event) -> None:
    """Advance the emulator's clock with real time, delivering due webhooks, until
    ``stop`` is set (Ctrl-C raises KeyboardInterrupt out of the wait)."""
    last = time.monotonic()
    while not stop.wait(_TICK_SECONDS):
        now = time.monotonic()
        emulator.advance(now - last)
        last = now
