"""The flow pages run as written: concepts, trigger how-tos, webhooks, schedules, custom triggers.

Every page's ```` ```python ```` blocks run in order in one namespace, on the emulator,
and print exactly the ```` ```text ```` block that follows them. The files a page
shows (```` ```python title="name.py" ````) are treated as ``tests/docs/_pages.py``
describes: modules are imported from the page, test modules must be identical to
their copy in this folder, and files that need a web framework or a task queue pdmc
does not depend on (FastAPI, Flask, Django, Celery) are compiled, not run. The
adapters those files call are ordinary functions of ``webhook_adapters.py``; the
tests below drive each of them with a stand-in for its framework's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from pdmc.emulator import WebhookDelivery
from pdmc.flows import SyncEngine
from pdmc.storage import PostgresStore, SQLiteStore
from tests.docs._pages import DOCS, PAGES, ROOT, TESTS, Block, blocks, every_block


def run_page(page: str) -> dict[str, Any]:
    """Run the page's blocks in order; return the namespace they leave."""
    namespace: dict[str, Any] = {"__name__": f"docs.{page}"}
    for block in blocks(page):
        if block.kind == "run":
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(block.compiled(), namespace)  # noqa: S102 - the docs' own examples
            if block.output is not None:
                assert printed.getvalue() == block.output, (
                    f"{page}, line {block.line}: the block prints something else than the page says"
                )
        elif block.kind == "module":
            importlib.import_module(block.module_name)
        elif block.kind == "framework":
            block.compiled()
    return namespace


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, so files a page creates land in a throw-away place."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", PAGES)
def test_the_page_runs_and_prints_what_it_says(page: str, in_tmp: Path) -> None:
    """Every python block of the page runs in order and prints exactly the output shown."""
    run_page(page)


@pytest.mark.parametrize("page", PAGES)
def test_the_page_shows_code_and_its_output(page: str) -> None:
    """Each page shows code with its output, and every output shown belongs to run code."""
    found = blocks(page)
    assert any(b.kind == "run" and b.output for b in found), page
    assert all(b.output is None for b in found if b.kind != "run"), page
    shown_outputs = (DOCS / page).read_text(encoding="utf-8").count("```text\n")
    assert shown_outputs == sum(b.output is not None for b in found), "an output without code"


def test_every_shown_test_module_is_the_one_this_suite_runs() -> None:
    """A test file shown in a page is byte for byte the file of that name in tests/docs/."""
    shown = [b for b in every_block() if b.kind == "test"]
    assert [b.title for b in shown] == ["test_custom_trigger.py"]
    for block in shown:
        assert block.title is not None
        assert (TESTS / block.title).read_text(encoding="utf-8") == block.code


def test_only_framework_files_are_left_unrun() -> None:
    """The files that are only compiled are exactly those importing a framework."""
    shown = {b.title for b in every_block() if b.kind == "framework"}
    assert shown == {"fastapi_app.py", "flask_app.py", "django_views.py", "tasks.py"}


def test_the_pages_are_in_the_site_navigation() -> None:
    """mkdocs.yml lists every flow page, so the strict build checks their links."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def leaves(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [leaf for item in node for leaf in leaves(item)]
        if isinstance(node, dict):
            return [leaf for value in node.values() for leaf in leaves(value)]
        return []

    listed = set(leaves(config["nav"]))
    assert set(PAGES) <= listed
    assert all((DOCS / page).is_file() for page in PAGES)


# The web framework adapters, driven with stand-ins for each framework's request ------


class _Headers(dict[str, str]):
    """Headers that, like every framework's, are found whatever their case."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in headers.items()})

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())


class FlaskRequest:
    """What ``receive_flask`` reads of ``flask.request``."""

    def __init__(self, hook: WebhookDelivery) -> None:
        self.method = hook.method
        self.url = hook.url
        self.headers = _Headers(hook.headers)
        self._body = hook.body

    def get_data(self) -> bytes:
        return self._body


class DjangoRequest:
    """What ``receive_django`` reads of a ``django.http.HttpRequest``."""

    def __init__(self, hook: WebhookDelivery) -> None:
        self.method = hook.method
        self.headers = _Headers(hook.headers)
        self.body = hook.body
        self._url = hook.url

    def build_absolute_uri(self) -> str:
        return self._url


class StarletteURL:
    """A ``starlette.datastructures.URL``: its ``str`` is the full URL."""

    def __init__(self, url: str) -> None:
        self._url = url

    def __str__(self) -> str:
        return self._url


class StarletteRequest:
    """What ``receive_starlette`` reads of a FastAPI (Starlette) ``Request``."""

    def __init__(self, hook: WebhookDelivery) -> None:
        self.method = hook.method
        self.url = StarletteURL(hook.url)
        self.headers = _Headers(hook.headers)
        self._body = hook.body

    async def body(self) -> bytes:
        return self._body


def _flask(adapters: Any, engine: SyncEngine, hook: WebhookDelivery) -> int:
    return adapters.receive_flask(engine, FlaskRequest(hook)).status


def _django(adapters: Any, engine: SyncEngine, hook: WebhookDelivery) -> int:
    return adapters.receive_django(engine, DjangoRequest(hook)).status


def _starlette(adapters: Any, engine: SyncEngine, hook: WebhookDelivery) -> int:
    return asyncio.run(adapters.receive_starlette(engine, StarletteRequest(hook))).status


ENDPOINTS: dict[str, Callable[[Any, SyncEngine, WebhookDelivery], int]] = {
    "flask": _flask,
    "django": _django,
    "fastapi": _starlette,
}


@pytest.mark.parametrize("framework", ENDPOINTS)
def test_the_adapter_carries_deliveries_from_the_framework_to_the_engine(
    framework: str, in_tmp: Path
) -> None:
    """Through the adapter, both vendors' deliveries sync, and forged ones are refused."""
    page = run_page("howto/webhooks.md")
    emulator, engine = page["emulator"], page["engine"]
    adapters = importlib.import_module("webhook_adapters")
    endpoint = ENDPOINTS[framework]
    answers: list[tuple[str, str, int]] = []

    def deliver(hook: WebhookDelivery) -> int:
        status = endpoint(adapters, engine, hook)
        answers.append((hook.service, hook.method, status))
        return status

    emulator.on_webhook(deliver)
    url_check = WebhookDelivery(
        service="mailchimp", method="GET", url="https://hooks.acme-robotics.io/pdmc/mailchimp"
    )
    deliver(url_check)  # what Mailchimp sends when a webhook is registered
    audience_id = page["audience_id"]
    emulator.advance(60)
    emulator.mailchimp.subscribe(
        audience_id, "alan@acme-robotics.io", merge_fields={"FNAME": "Alan", "LNAME": "Turing"}
    )
    emulator.deliver_webhooks()
    alan = next(p for p in emulator.pipedrive.iter_persons() if p["name"] == "Alan Turing")
    emulator.pipedrive.update_person(alan["id"], {"name": "Alan M. Turing"})
    emulator.deliver_webhooks()

    assert ("mailchimp", "GET", 200) in answers
    assert ("mailchimp", "POST", 200) in answers
    assert ("pipedrive", "POST", 200) in answers
    assert all(status == 200 for _, _, status in answers)
    forged = WebhookDelivery(
        service="mailchimp",
        url="https://hooks.acme-robotics.io/pdmc/mailchimp?secret=a-guess",
        body=b"type=subscribe&data[list_id]=x&data[email]=eve@acme-robotics.io",
    )
    assert endpoint(adapters, engine, forged) == 401


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_build_engine_reads_its_settings_from_the_environment(
    database: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The pages' ``build_engine`` makes an engine from the environment, on either store."""
    monkeypatch.setenv("PIPEDRIVE_API_TOKEN", "a-pipedrive-token")
    monkeypatch.setenv("MAILCHIMP_API_KEY", "0123456789abcdef0123456789abcdef-us6")
    monkeypatch.setenv("PDMC_PIPEDRIVE_WEBHOOK_PASSWORD", "a long random password")
    monkeypatch.setenv("PDMC_MAILCHIMP_WEBHOOK_SECRET", "another long random secret")
    expected: type[object] = SQLiteStore
    if database == "postgres":
        server = request.getfixturevalue("pg_server")
        monkeypatch.setenv("PDMC_DATABASE_URL", server.conninfo)
        expected = PostgresStore
    else:
        monkeypatch.delenv("PDMC_DATABASE_URL", raising=False)
    engine = importlib.import_module("pdmc_engine").build_engine()
    try:
        assert isinstance(engine.store, expected)
        assert engine.pipedrive_webhook_auth is not None
        assert engine.mailchimp_webhook_auth is not None
        assert "a long random password" not in repr(engine.pipedrive_webhook_auth)
    finally:
        engine.store.close()
        engine.pipedrive.close()
        engine.mailchimp.close()


def test_run_page_notices_a_wrong_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner fails a page whose shown output differs from what its code prints."""
    (tmp_path / "wrong.md").write_text('```python\nprint("yes")\n```\n\n```text\nno\n```\n')
    monkeypatch.setattr("tests.docs._pages.DOCS", tmp_path)
    assert blocks("wrong.md") == [
        Block(page="wrong.md", line=2, code='print("yes")\n', output="no\n")
    ]
    with pytest.raises(AssertionError, match="prints something else"):
        run_page("wrong.md")
