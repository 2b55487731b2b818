"""The snippets written for the reader's own accounts run, here against the emulator.

``README.md``'s Python block and ``docs/quickstart.md``'s command lines talk to real
Pipedrive and Mailchimp accounts with the reader's credentials; ``docs/contracts.md``
validates a request and a response the reader has. Each runs as written, with the
emulator in the place of the accounts:

* the README block gets ``token``, ``api_key`` and ``audience_id`` (the emulator's own
  credentials and audience), and ``pdmc.PipedriveClient`` / ``pdmc.MailchimpClient``
  build the same clients on the emulator's transport and clock;
* the quickstart's ``pdmc`` commands run through :func:`pdmc.cli.main` with the
  environment variables the page exports, pointed at the emulator served on
  localhost, and its JSON flow definition saved as the file the commands name;
* the contracts block gets a request to the emulator and its response.

Both pages use Pipedrive filter 42, so the emulated company has a filter with that id.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

import pdmc
from pdmc.cli import main
from pdmc.emulator import Emulator
from tests.docs._pages import DOCS, ROOT, Block, blocks

README = os.path.relpath(ROOT / "README.md", DOCS)
"""The README as ``tests.docs._pages.blocks`` names pages (relative to docs/)."""

FILTER_ID = 42
"""The Pipedrive filter both pages sync."""


def filter_numbered(emulator: Emulator, wanted: int, name: str) -> None:
    """Give the emulated company a filter ``wanted`` of every person with an email field."""
    people = emulator.pipedrive
    has_email = {
        "object": "person",
        "field_id": str(people.person_field_id("email")),
        "operator": "IS NOT NULL",
        "value": None,
    }
    conditions = {
        "glue": "and",
        "conditions": [
            {"glue": "and", "conditions": [has_email]},
            {"glue": "or", "conditions": []},
        ],
    }
    made = people.add_filter(name, conditions)
    while made < wanted:  # ids are given in order; burn the ones before
        people.delete_filter(made)
        made = people.add_filter(name, conditions)
    assert made == wanted, f"the emulator has filter {wanted} already"


def tagged(emulator: Emulator, audience_id: str, tag: str) -> set[str]:
    """The addresses (lower case) of the audience's members that carry ``tag``."""
    return {
        member["email_address"].lower()
        for member in emulator.mailchimp.iter_members(audience_id)
        if any(t["name"] == tag for t in member["tags"])
    }


def matching(emulator: Emulator, filter_id: int) -> list[str]:
    """The primary addresses of the filter's persons, in Pipedrive's order."""
    with emulator.pipedrive_client() as pipedrive:
        return [p.primary_email or "" for p in pipedrive.list_persons(filter_id=filter_id)]


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A seeded account with filter 42, in an empty working folder for the state file."""
    monkeypatch.chdir(tmp_path)
    emulator = Emulator()
    emulator.seed(contacts=150, seed=11)
    filter_numbered(emulator, FILTER_ID, "Hot leads")
    return emulator


def run_block(block: Block, names: Mapping[str, Any]) -> str:
    """Run one python block in a namespace holding ``names``; return what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(block.compiled(), {"__name__": "docs", **names})  # noqa: S102 - the docs' own examples
    return printed.getvalue()


def test_the_readme_block_syncs_the_filter_into_mailchimp(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's flow previews filter 42, and its first run puts those persons in
    Mailchimp with the tag, the state kept in the default SQLite file."""
    monkeypatch.setattr(
        pdmc,
        "PipedriveClient",
        functools.partial(
            pdmc.PipedriveClient,
            transport=emulator.transport,
            sleep=emulator.clock.sleep,
            clock=emulator.clock.monotonic,
        ),
    )
    monkeypatch.setattr(
        pdmc,
        "MailchimpClient",
        functools.partial(
            pdmc.MailchimpClient, transport=emulator.transport, sleep=emulator.clock.sleep
        ),
    )
    audience_id = emulator.mailchimp.default_audience_id
    [block] = blocks(README)
    printed = run_block(
        block,
        {
            "token": emulator.pipedrive.default_company.api_token.reveal(),
            "api_key": emulator.mailchimp.default_account.api_key.reveal(),
            "audience_id": audience_id,
        },
    )
    persons = matching(emulator, FILTER_ID)
    first = next(email for email in persons if email)
    assert first in printed, "the preview shows the filter's first person with an address"
    synced = tagged(emulator, audience_id, "hot-lead")
    assert synced
    assert synced <= {email.lower() for email in persons}
    assert Path("pdmc-state.sqlite3").is_file()


@pytest.fixture
def served(emulator: Emulator) -> Iterator[dict[str, str]]:
    """The emulator on localhost, and the environment the quickstart's commands need."""
    with emulator.serve() as server:
        yield {
            "PDMC_PIPEDRIVE_TOKEN": emulator.pipedrive.default_company.api_token.reveal(),
            "PDMC_MAILCHIMP_API_KEY": emulator.mailchimp.default_account.api_key.reveal(),
            "PDMC_PIPEDRIVE_BASE_URL": server.url_of(emulator.pipedrive),
            "PDMC_MAILCHIMP_BASE_URL": server.url_of(emulator.mailchimp),
        }


def fenced(page: str, language: str) -> list[str]:
    """The bodies of the page's blocks fenced as ``language``, in order."""
    text = (DOCS / page).read_text(encoding="utf-8")
    parts = text.split(f"```{language}\n")[1:]
    return [part.split("\n```", 1)[0] for part in parts]


def test_the_quickstart_commands_sync_the_flow_file(
    emulator: Emulator,
    served: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The quickstart's exports, flow file and ``pdmc`` commands work as written: the
    catalogs print, the flow is previewed, created, activated and run by ``run-due``."""
    audience_id = emulator.mailchimp.default_audience_id
    for variable in ("PDMC_CONFIG", "PDMC_STORE", "PDMC_WEBHOOK_USER", "PDMC_WEBHOOK_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    consoles = fenced("quickstart.md", "console")
    exported = [
        line.split()[1].split("=")[0]
        for console in consoles
        for line in console.splitlines()
        if line.startswith("export ")
    ]
    assert exported == ["PDMC_PIPEDRIVE_TOKEN", "PDMC_MAILCHIMP_API_KEY"]
    for variable, value in served.items():
        monkeypatch.setenv(variable, value)
    commands = [
        shlex.split(line.replace("<audience-id>", audience_id), comments=True)
        for console in consoles
        for line in console.splitlines()
        if line.startswith("pdmc ")
    ]
    [flow_file] = {word for command in commands for word in command if word.endswith(".json")}
    [definition] = fenced("quickstart.md", "json")
    Path(flow_file).write_text(definition.replace("<audience-id>", audience_id), encoding="utf-8")
    assert json.loads(Path(flow_file).read_text(encoding="utf-8"))["trigger"] == {
        "type": "pipedrive_filters",
        "config": {"filter_ids": [FILTER_ID]},
    }
    assert [command[:2] for command in commands][-1] == ["pdmc", "run-due"]
    for command in commands:
        assert main(command[1:]) == 0, command
    out = capsys.readouterr().out
    assert "Pipedrive person fields" in out
    assert "flow hot-leads:" in out
    assert tagged(emulator, audience_id, "hot-lead")


def test_the_contracts_block_validates_an_exchange(emulator: Emulator) -> None:
    """docs/contracts.md's block validates a request and the emulator's answer to it."""
    token = emulator.pipedrive.default_company.api_token.reveal()
    request = httpx.Request(
        "GET", "https://api.pipedrive.com/v1/users/me", headers={"x-api-token": token}
    )
    with httpx.Client(transport=emulator.transport) as http:
        response = http.send(request)
        response.read()
    [block] = blocks("contracts.md")
    assert run_block(block, {"request": request, "response": response}) == ""
