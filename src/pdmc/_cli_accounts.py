"""The command line for real accounts: flows, runs, catalogs and webhooks.

Every command is a thin call into :class:`~pdmc.flows.SyncEngine`; the command line
adds no behaviour of its own. Credentials come from environment variables or a TOML
file, never from arguments (which shells keep in their history):

=============================  ======================================  ===================
Environment variable           TOML key                                What
=============================  ======================================  ===================
``PDMC_PIPEDRIVE_TOKEN``       ``[pipedrive] token``                   API token
``PDMC_MAILCHIMP_API_KEY``     ``[mailchimp] api_key``                 API key (``-usN``)
``PDMC_STORE``                 ``[store] path``                        SQLite file, or a
                                                                       ``postgresql://`` URL
``PDMC_WEBHOOK_USER``          ``[webhooks] user``                     Pipedrive Basic auth
``PDMC_WEBHOOK_PASSWORD``      ``[webhooks] password``                 Pipedrive Basic auth
``PDMC_MAILCHIMP_SECRET``      ``[webhooks] mailchimp_secret``         Mailchimp URL secret
``PDMC_PIPEDRIVE_BASE_URL``    ``[pipedrive] base_url``                another host (the
``PDMC_MAILCHIMP_BASE_URL``    ``[mailchimp] base_url``                emulator, say)
=============================  ======================================  ===================

The file is ``pdmc.toml`` in the working directory, or the path in ``PDMC_CONFIG``;
environment variables win over it.
"""

# ruff: noqa: T201 - a command line prints to its terminal

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from pdmc._secret import Secret
from pdmc.errors import PdmcError

if TYPE_CHECKING:
    from pdmc.flows import Flow, SyncEngine, SyncReport

__all__ = ["Settings", "add_account_commands", "load_settings"]

_VARIABLES = {
    "pipedrive_token": ("PDMC_PIPEDRIVE_TOKEN", ("pipedrive", "token")),
    "mailchimp_api_key": ("PDMC_MAILCHIMP_API_KEY", ("mailchimp", "api_key")),
    "store": ("PDMC_STORE", ("store", "path")),
    "webhook_user": ("PDMC_WEBHOOK_USER", ("webhooks", "user")),
    "webhook_password": ("PDMC_WEBHOOK_PASSWORD", ("webhooks", "password")),
    "mailchimp_secret": ("PDMC_MAILCHIMP_SECRET", ("webhooks", "mailchimp_secret")),
    "pipedrive_base_url": ("PDMC_PIPEDRIVE_BASE_URL", ("pipedrive", "base_url")),
    "mailchimp_base_url": ("PDMC_MAILCHIMP_BASE_URL", ("mailchimp", "base_url")),
}


@frozen(kw_only=True)
class Settings:
    """Where pdmc finds its accounts and its state; secrets stay :class:`~pdmc.Secret`."""

    pipedrive_token: Secret | None = None
    mailchimp_api_key: Secret | None = None
    store: str = "pdmc-state.sqlite3"
    webhook_user: str | None = None
    webhook_password: Secret | None = None
    mailchimp_secret: Secret | None = None
    pipedrive_base_url: str | None = None
    mailchimp_base_url: str | None = None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment and the TOML file.

    Raises:
        PdmcError: the TOML file cannot be read.
    """
    env = os.environ if environ is None else environ
    path = Path(env.get("PDMC_CONFIG", "pdmc.toml"))
    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise PdmcError(f"cannot read the settings file {path}: {error}") from None
    values: dict[str, Any] = {}
    for name, (variable, (table, key)) in _VARIABLES.items():
        value = env.get(variable) or (document.get(table) or {}).get(key)
        if value:
            secret = name in {
                "pipedrive_token",
                "mailchimp_api_key",
                "webhook_password",
                "mailchimp_secret",
            }
            values[name] = Secret(str(value)) if secret else str(value)
    return Settings(**values)


def _engine(settings: Settings) -> SyncEngine:
    from pdmc.clients import MailchimpClient, PipedriveClient  # noqa: PLC0415 - on demand
    from pdmc.flows import MailchimpWebhookAuth, PipedriveWebhookAuth, SyncEngine  # noqa: PLC0415
    from pdmc.storage import SQLiteStore, StateStore  # noqa: PLC0415

    if settings.pipedrive_token is None or settings.mailchimp_api_key is None:
        raise PdmcError("set PDMC_PIPEDRIVE_TOKEN and PDMC_MAILCHIMP_API_KEY (or pdmc.toml) first")
    store: StateStore
    if settings.store.startswith(("postgresql://", "postgres://")):
        from pdmc.storage import PostgresStore  # noqa: PLC0415 - needs the postgres extra

        store = PostgresStore(Secret(settings.store))
    else:
        store = SQLiteStore(settings.store)
    pipedrive_auth = None
    if settings.webhook_user and settings.webhook_password:
        pipedrive_auth = PipedriveWebhookAuth(settings.webhook_user, settings.webhook_password)
    mailchimp_auth = None
    if settings.mailchimp_secret is not None:
        mailchimp_auth = MailchimpWebhookAuth(url_secret=settings.mailchimp_secret)
    return SyncEngine(
        PipedriveClient(settings.pipedrive_token, base_url=settings.pipedrive_base_url),
        MailchimpClient(settings.mailchimp_api_key, base_url=settings.mailchimp_base_url),
        store,
        pipedrive_webhook_auth=pipedrive_auth,
        mailchimp_webhook_auth=mailchimp_auth,
    )


def _flow_from_file(engine: SyncEngine, path: str) -> Flow:
    """A flow from a JSON file: ``id``, ``name``, and the definition's keys.

    ``pairs`` may be left out: the flow then starts from the default map.
    """
    from pdmc.flows import Flow  # noqa: PLC0415
    from pdmc.flows._flow import DEFINITION_VERSION  # noqa: PLC0415
    from pdmc.flows._trigger import trigger_from_config  # noqa: PLC0415

    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if "pairs" not in document:
        trigger = document["trigger"]
        direction = trigger_from_config(trigger["type"], trigger.get("config") or {}).direction
        pairs = engine.default_pairs(direction, document["audience_id"])
        document["pairs"] = [{"pipedrive": p.pipedrive, "mailchimp": p.mailchimp} for p in pairs]
    return Flow.from_definition(document["id"], document["name"], document, DEFINITION_VERSION)


def _flows_list(engine: SyncEngine, args: argparse.Namespace) -> None:
    del args
    states = engine.list_flows()
    print(f"{'id':<20} {'status':<12} {'trigger'}")
    for state in states:
        print(f"{state.id:<20} {state.status:<12} {state.flow.trigger.describe()}")
        if state.status_reason:
            print(f"{'':<20} {'':<12} reason: {state.status_reason}")


def _flows_show(engine: SyncEngine, args: argparse.Namespace) -> None:
    state = engine.get_flow(args.flow_id)
    print(
        json.dumps(
            {
                "id": state.id,
                "name": state.flow.name,
                "status": state.status,
                **state.flow.to_definition(),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


def _flows_create(engine: SyncEngine, args: argparse.Namespace) -> None:
    state = engine.create_flow(
        _flow_from_file(engine, args.file), confirm_subscribed=args.confirm_subscribed
    )
    print(f"created flow {state.id} ({state.status})")
    print(f"activate it with: pdmc flows activate {state.id}")


def _flows_preview(engine: SyncEngine, args: argparse.Namespace) -> None:
    flow = _flow_from_file(engine, args.file)
    preview = engine.preview(flow, limit=args.limit)
    print(f"preview of {flow.id}: {preview.trigger}")
    for row in preview.rows:
        problems = f"  ({'; '.join(row.problems)})" if row.problems else ""
        print(f"  {row.email or '-':<40} {row.name or ''}{problems}")


def _flows_status(action: str) -> Callable[[SyncEngine, argparse.Namespace], None]:
    def change(engine: SyncEngine, args: argparse.Namespace) -> None:
        state = getattr(engine, action)(args.flow_id)
        print(f"flow {state.id} is {state.status}")

    return change


def _flows_delete(engine: SyncEngine, args: argparse.Namespace) -> None:
    engine.delete_flow(args.flow_id, public_url=args.public_url)
    print(f"deleted flow {args.flow_id} (links kept)")


def _print_report(report: SyncReport) -> None:
    print(report.summary())
    for reason, count in report.skipped_reasons.items():
        print(f"  {count:>6} skipped: {reason}")
    for error in report.errors:
        print(f"  error: {error}")
    if report.deactivated:
        print(f"  deactivated: {report.deactivated}")


def _flows_run(engine: SyncEngine, args: argparse.Namespace) -> None:
    _print_report(engine.dry_run(args.flow_id) if args.dry_run else engine.run_flow(args.flow_id))


def _run_due(engine: SyncEngine, args: argparse.Namespace) -> None:
    del args
    reports = engine.run_due()
    for report in reports:
        _print_report(report)
    if not reports:
        print("no flow is due")


def _catalogs(engine: SyncEngine, args: argparse.Namespace) -> None:
    pipedrive, mailchimp = engine.field_catalogs(args.audience_id)
    for title, catalog in (
        ("Pipedrive person fields", pipedrive),
        ("Mailchimp merge fields", mailchimp),
    ):
        print(title)
        for field in catalog:
            required = " (required)" if field.required else ""
            print(f"  {field.key:<42} {field.kind.value:<14} {field.label}{required}")


def _webhooks_ensure(engine: SyncEngine, args: argparse.Namespace) -> None:
    setup = engine.ensure_webhooks(args.public_url)
    for verb, items in (
        ("created", setup.created),
        ("deleted", setup.deleted),
        ("kept", setup.kept),
    ):
        for item in items:
            print(f"{verb:<8} {item}")
    if not setup.changed:
        print("webhooks already as the active flows need them")


def _command(
    handler: Callable[[SyncEngine, argparse.Namespace], None],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            engine = _engine(load_settings())
            try:
                handler(engine, args)
            finally:
                engine.pipedrive.close()
                engine.mailchimp.close()
                engine.store.close()
        except PdmcError as error:
            print(f"pdmc: {error}", file=sys.stderr)
            return 1
        except (OSError, ValueError, KeyError) as error:
            print(f"pdmc: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        return 0

    return run


def add_account_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    usage_of: Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]],
) -> None:
    """Add ``flows``, ``run-due``, ``catalogs`` and ``webhooks`` to the ``pdmc`` parser."""
    flows = commands.add_parser("flows", help="list, create, preview, run and manage flows")
    flows.set_defaults(run=usage_of(flows))
    sub = flows.add_subparsers(title="commands", metavar="COMMAND")
    sub.add_parser("list", help="every flow with its status").set_defaults(
        run=_command(_flows_list)
    )
    for name, helptext, handler in (
        ("show", "a flow's definition and status", _flows_show),
        ("activate", "activate a flow (due at once)", _flows_status("activate")),
        ("pause", "pause a flow", _flows_status("pause")),
    ):
        parser = sub.add_parser(name, help=helptext)
        parser.add_argument("flow_id")
        parser.set_defaults(run=_command(handler))
    create = sub.add_parser("create", help="create a flow from a JSON file (saved paused)")
    create.add_argument("file")
    create.add_argument(
        "--confirm-subscribed",
        action="store_true",
        help="confirm that new Mailchimp members may be created as 'subscribed'",
    )
    create.set_defaults(run=_command(_flows_create))
    preview = sub.add_parser("preview", help="the first contacts a flow file would sync")
    preview.add_argument("file")
    preview.add_argument("--limit", type=int, default=20)
    preview.set_defaults(run=_command(_flows_preview))
    delete = sub.add_parser("delete", help="delete a flow (its links stay)")
    delete.add_argument("flow_id")
    delete.add_argument("--public-url", help="also remove webhooks no active flow needs")
    delete.set_defaults(run=_command(_flows_delete))
    run = sub.add_parser("run", help="run a flow now")
    run.add_argument("flow_id")
    run.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
    run.set_defaults(run=_command(_flows_run))
    commands.add_parser("run-due", help="run every flow that is due (for cron)").set_defaults(
        run=_command(_run_due)
    )
    catalogs = commands.add_parser("catalogs", help="the field catalogs of both sides")
    catalogs.add_argument("audience_id")
    catalogs.set_defaults(run=_command(_catalogs))
    webhooks = commands.add_parser("webhooks", help="register the webhooks active flows need")
    webhooks.set_defaults(run=usage_of(webhooks))
    hooks = webhooks.add_subparsers(title="commands", metavar="COMMAND")
    ensure = hooks.add_parser("ensure", help="create or repair webhooks under a public URL")
    ensure.add_argument("public_url")
    ensure.set_defaults(run=_command(_webhooks_ensure))
