"""Security: canary secrets never leak, forged webhooks are refused unread, OAuth rotates once.

The canary sweep plays a whole account pair's life (two flows, webhook set-up,
people's edits delivered as webhooks, transient faults, a wrong API key, a refused
OAuth refresh, a broken field map) with every credential a unique random string,
over real HTTP so that ``httpx`` and ``httpcore`` log at DEBUG too. It then looks
for every credential, and the Basic-auth header each makes, in every log line, in
the repr and str of every public object that holds one, in every exception raised
(with its causes, context and group members), in the reports and their HTML view,
in the state store's files, and in every file of the repository's ``tests/`` tree.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from pdmc import Secret
from pdmc.clients import (
    AsyncPipedriveClient,
    MailchimpClient,
    PipedriveClient,
    RetryPolicy,
)
from pdmc.clients.pipedrive import PipedriveOAuthApp, PipedriveOAuthAuth, PipedriveTokens
from pdmc.emulator import Emulator, FaultKind, WebhookDelivery
from pdmc.emulator.mailchimp import signature_header
from pdmc.errors import PdmcError
from pdmc.flows import (
    MailchimpWebhookAuth,
    PipedriveWebhookAuth,
    SyncEngine,
    SyncReport,
    WebhookResult,
)
from pdmc.flows import _engine as engine_module
from pdmc.mapping import FieldPair
from pdmc.storage import SQLiteStore
from tests.flows_safety.world import PUBLIC_URL, SCORE_THRESHOLD, World, make_world
from tests.reliability.ledger import LEDGER

TESTS_TREE: Final = Path(__file__).resolve().parents[1]
HOOK_USER: Final = "pdmc"
LOGGERS: Final = ("", "pdmc", "httpx", "httpcore", "hpack")


def canary(rng: random.Random, label: str) -> str:
    """A unique string no code or fixture could hold by chance."""
    return f"canary-{label}-{rng.getrandbits(128):032x}"


class Sweep:
    """Every credential of the scenario and everything that might carry one."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - canaries must be unique, not unguessable
        self.secrets: dict[str, str] = {}
        self.texts: list[tuple[str, str]] = []

    def secret(self, label: str, value: str | None = None) -> Secret:
        """Register a credential (a new canary unless ``value`` is given)."""
        plain = value if value is not None else canary(self.rng, label)
        self.secrets[label] = plain
        return Secret(plain)

    def needles(self) -> dict[str, str]:
        """Each credential, and the Basic-auth header value that carries it."""
        found = dict(self.secrets)
        for label, value in self.secrets.items():
            for user in (HOOK_USER, "anystring", "pdmc-tests"):
                pair = base64.b64encode(f"{user}:{value}".encode()).decode()
                found[f"{label} as Basic {user}"] = pair
        return found

    def look_at(self, where: str, *objects: object) -> None:
        """Keep the repr and str of ``objects`` to be searched."""
        for number, item in enumerate(objects):
            self.texts.append((f"{where}[{number}] repr", repr(item)))
            self.texts.append((f"{where}[{number}] str", str(item)))

    def look_at_error(self, where: str, error: BaseException) -> None:
        """Keep an exception's whole traceback (causes, context, group members) and attributes."""
        self.texts.append((where, "".join(traceback.format_exception(error))))
        for inner in _chain(error):
            self.texts.append((f"{where} {type(inner).__name__} attrs", repr(vars(inner))))
            self.texts.append((f"{where} {type(inner).__name__} args", repr(inner.args)))

    def leaks(self, texts: Iterable[tuple[str, str]]) -> list[str]:
        """Where any credential shows in ``texts``: "<label> in <where>" for each finding."""
        needles = self.needles()
        return [
            f"{label} in {where}"
            for where, text in texts
            for label, needle in needles.items()
            if needle in text
        ]


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)


def _expect_error(sweep: Sweep, where: str, call: Callable[[], object]) -> BaseException:
    try:
        call()
    except PdmcError as error:
        sweep.look_at_error(where, error)
        return error
    raise AssertionError(f"{where}: no error was raised")


def _engine(
    world: World,
    server: Any,
    store: SQLiteStore,
    sweep: Sweep,
    *,
    oauth: PipedriveOAuthAuth,
) -> SyncEngine:
    """An engine whose clients talk real HTTP to the served emulator, all on canaries."""
    emulator = world.emulator
    pipedrive = PipedriveClient(
        oauth=oauth,
        base_url=server.url_of(emulator.pipedrive),
        sleep=emulator.clock.sleep,
        clock=emulator.clock.monotonic,
    )
    mailchimp = MailchimpClient(
        emulator.mailchimp.default_account.api_key,
        base_url=server.url_of(emulator.mailchimp),
        sleep=emulator.clock.sleep,
    )
    return SyncEngine(
        pipedrive,
        mailchimp,
        store,
        clock=emulator.clock,
        pipedrive_webhook_auth=PipedriveWebhookAuth(HOOK_USER, sweep.secret("hook password")),
        mailchimp_webhook_auth=MailchimpWebhookAuth(url_secret=sweep.secret("url secret")),
    )


def _oauth(
    world: World, server: Any, sweep: Sweep, refreshed: list[PipedriveTokens]
) -> tuple[PipedriveOAuthAuth, PipedriveTokens]:
    """Pipedrive OAuth on a canary client secret, and the first pair a code exchange gave."""
    emulator = world.emulator
    app = PipedriveOAuthApp(
        client_id="canary-app",
        client_secret=sweep.secret("client secret"),
        redirect_uri="https://app.example.org/oauth/callback",
        token_url=f"{server.url_of(emulator.pipedrive)}/oauth/token",
        clock=emulator.clock.now,
    )
    registered = emulator.pipedrive.register_oauth_app(
        app.client_id, app.client_secret, app.redirect_uri
    )
    code = emulator.pipedrive.authorize(app=registered)
    tokens = app.exchange_code(code)

    def keep(new: PipedriveTokens) -> None:
        sweep.secret(f"access token {len(refreshed) + 1}", new.access_token.reveal())
        sweep.secret(f"refresh token {len(refreshed) + 1}", new.refresh_token.reveal())
        refreshed.append(new)

    sweep.secret("access token 0", tokens.access_token.reveal())
    sweep.secret("refresh token 0", tokens.refresh_token.reveal())
    return PipedriveOAuthAuth(app, tokens, on_refresh=keep), tokens


def test_no_canary_secret_leaks_anywhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """No credential shows in logs, reprs, exceptions, reports, store files or test fixtures."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    sweep = Sweep(seed=8)
    world = make_world(contacts=24, seed=8)
    emulator = world.emulator
    sweep.secret("pipedrive api token", emulator.pipedrive.default_company.api_token.reveal())
    sweep.secret("mailchimp api key", emulator.mailchimp.default_account.api_key.reveal())
    default_app = emulator.pipedrive.default_oauth_app
    sweep.secret("default OAuth client secret", default_app.client_secret.reveal())
    store = SQLiteStore(tmp_path / "state.db", clock=emulator.clock)
    refreshed: list[PipedriveTokens] = []
    reports: list[SyncReport] = []
    answers: list[WebhookResult] = []
    delivered: list[str] = []
    with emulator.serve() as server:
        oauth, first_pair = _oauth(world, server, sweep, refreshed)
        engine = _engine(world, server, store, sweep, oauth=oauth)
        emulator.on_webhook(lambda d: (delivered.append(d.url), _answer(engine, answers, d))[1])
        world.engine = engine
        flows = (world.filter_flow(), world.tag_flow())
        world.start(*flows)
        setup = engine.ensure_webhooks(PUBLIC_URL)
        # Transient faults everywhere but the OAuth token endpoint, whose lost answers
        # have a scenario of their own (test_a_lost_token_rotation_...).
        emulator.faults.random(
            0.15,
            kinds=(FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT_AFTER_COMMIT),
            seed=8,
            service="mailchimp",
        )
        for kind, operation in (
            (FaultKind.RATE_LIMIT, "getPersons"),
            (FaultKind.SERVER_ERROR, "getPersonFields"),
            (FaultKind.TIMEOUT_AFTER_COMMIT, "updatePerson"),
            (FaultKind.FORBIDDEN_HTML, "getPersonFields"),
        ):
            emulator.faults.script(kind, service="pipedrive", operation=operation)
        reports += world.settle()
        for person in list(emulator.pipedrive.iter_persons())[:6]:
            emulator.pipedrive.update_person(person["id"], {"first_name": "Changed"})
        emulator.advance(timedelta(hours=2).total_seconds())  # the access token expires
        reports += world.settle()
        emulator.faults.clear()
        sweep.look_at(
            "objects",
            engine,
            engine.pipedrive,
            engine.mailchimp,
            engine.store,
            engine.pipedrive_webhook_auth,
            engine.mailchimp_webhook_auth,
            oauth,
            oauth.app,
            oauth.tokens,
            *refreshed,
            setup,
            *answers,
            *engine.list_flows(),
            *(engine.history(flow.id, limit=100) for flow in flows),
            *engine.pipedrive.list_webhooks(),
            *engine.mailchimp.list_webhooks(world.audience),
        )
        _errors(sweep, world, server, oauth.app, first_pair)
    for report in reports:
        sweep.look_at("report", report, report.summary(), report._repr_html_())
    assert refreshed, "the story never refreshed the OAuth token"
    assert any(a.status == 200 and a.synced for a in answers), "no webhook was synced"
    logged = [("log", caplog.text)] + [
        (f"log record {r.name}", repr(r.__dict__)) for r in caplog.records
    ]
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    store.close()
    stored = [(f"store file {p.name}", _text_of(p)) for p in tmp_path.iterdir() if p.is_file()]
    fixtures = [(f"tests file {p}", _text_of(p)) for p in _files(TESTS_TREE)]

    # The control: Mailchimp's deliveries carry the URL secret by design, and the sweep sees it.
    mailchimp_urls = [("delivery URL", url) for url in delivered if "/mailchimp" in url]
    assert mailchimp_urls
    assert sweep.leaks(mailchimp_urls[:1]) == ["url secret in delivery URL"]
    assert sweep.leaks([*sweep.texts, *logged, *stored, *fixtures]) == []
    LEDGER.record(
        "security: canary secrets never leak",
        faults=len(sweep.secrets) + sum(emulator.faults.injected.values()),
        contacts=sum(sum(r.counts.values()) for r in reports),
    )


def _answer(engine: SyncEngine, answers: list[WebhookResult], delivery: WebhookDelivery) -> int:
    answer = engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body)
    answers.append(answer)
    return answer.status


def _errors(
    sweep: Sweep, world: World, server: Any, app: PipedriveOAuthApp, spent: PipedriveTokens
) -> None:
    """Raise the errors a misconfigured or attacked deployment meets, and keep them.

    ``spent`` is a token pair whose refresh token was used already.
    """
    emulator, engine = world.emulator, world.engine
    wrong_key = sweep.secret("wrong mailchimp key", canary(sweep.rng, "wrong") + "-us6")
    with MailchimpClient(
        wrong_key, base_url=server.url_of(emulator.mailchimp), retry=RetryPolicy.no_wait()
    ) as bad:
        _expect_error(sweep, "wrong Mailchimp key", lambda: list(bad.list_audiences()))
    wrong_token = sweep.secret("wrong pipedrive token")
    with PipedriveClient(
        wrong_token, base_url=server.url_of(emulator.pipedrive), retry=RetryPolicy.no_wait()
    ) as bad_pd:
        _expect_error(sweep, "wrong Pipedrive token", bad_pd.get_current_user)
    _expect_error(sweep, "reused refresh token", lambda: app.refresh(spent))
    broken = world.filter_flow("broken").evolve(
        pairs=(*world.filter_flow().pairs, FieldPair("no-such-field", "NOSUCH"))
    )
    _expect_error(sweep, "invalid field map", lambda: engine.create_flow(broken))
    forged = {"authorization": "Basic " + base64.b64encode(b"pdmc:guess").decode()}
    answer = engine.receive("POST", f"{PUBLIC_URL}/pipedrive", forged, b"{}")
    sweep.look_at("forged webhook answer", answer)
    _expect_error(
        sweep,
        "forged Mailchimp webhook",
        lambda: engine.handle_mailchimp_webhook(b"type=profile", {}, query_secret="guess"),
    )


def _text_of(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


# -- forged webhooks are refused before their body is parsed ------------------------------

GARBAGE: Final = b"\xff\xfe{ neither JSON nor a form"
"""A body both parsers refuse: a delivery answered 401 for it was never parsed."""
SIGNING: Final = Secret("canary-signing-key-5f0c2a9e8d7b4c1a")
_HOOK_AUTH: Final = "authorization"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _signed(secret: Secret, stamp: float, body: bytes = GARBAGE) -> dict[str, str]:
    return {"x-mailchimp-signature": signature_header(secret, int(stamp), body)}


FORGERIES: Final[dict[str, Callable[[float], tuple[str, dict[str, str]]]]] = {
    "pipedrive: no Basic auth": lambda _now: (f"{PUBLIC_URL}/pipedrive", {}),
    "pipedrive: wrong password": lambda _now: (
        f"{PUBLIC_URL}/pipedrive",
        {_HOOK_AUTH: _basic("pdmc", "pipedrive-hook-passworD")},
    ),
    "pipedrive: wrong user": lambda _now: (
        f"{PUBLIC_URL}/pipedrive",
        {_HOOK_AUTH: _basic("admin", "pipedrive-hook-password")},
    ),
    "pipedrive: bearer instead of Basic": lambda _now: (
        f"{PUBLIC_URL}/pipedrive",
        {_HOOK_AUTH: "Bearer pipedrive-hook-password"},
    ),
    "mailchimp: no URL secret": lambda _now: (f"{PUBLIC_URL}/mailchimp", {}),
    "mailchimp: wrong URL secret": lambda _now: (
        f"{PUBLIC_URL}/mailchimp?secret=mailchimp-url-secreT",
        {},
    ),
    "mailchimp: truncated URL secret": lambda _now: (
        f"{PUBLIC_URL}/mailchimp?secret=mailchimp-url-secre",
        {},
    ),
    "mailchimp hmac: no signature": lambda _now: (f"{PUBLIC_URL}/mailchimp", {}),
    "mailchimp hmac: signed with another key": lambda now: (
        f"{PUBLIC_URL}/mailchimp",
        _signed(Secret("canary-other-key"), now),
    ),
    "mailchimp hmac: signed for another body": lambda now: (
        f"{PUBLIC_URL}/mailchimp",
        _signed(SIGNING, now, b"type=profile"),
    ),
    "mailchimp hmac: signature an hour old": lambda now: (
        f"{PUBLIC_URL}/mailchimp",
        _signed(SIGNING, now - 3600),
    ),
}
GENUINE: Final[dict[str, Callable[[float], tuple[str, dict[str, str]]]]] = {
    "pipedrive": lambda _now: (
        f"{PUBLIC_URL}/pipedrive",
        {_HOOK_AUTH: _basic("pdmc", "pipedrive-hook-password")},
    ),
    "mailchimp": lambda _now: (f"{PUBLIC_URL}/mailchimp?secret=mailchimp-url-secret", {}),
    "mailchimp hmac": lambda now: (
        f"{PUBLIC_URL}/mailchimp",
        _signed(SIGNING, now),
    ),
}


class ParserSpy:
    """Counts the bodies the engine hands to either vendor's event parser."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed: list[bytes] = []
        for name in ("parse_pipedrive_event", "parse_mailchimp_event"):
            real = getattr(engine_module, name)
            monkeypatch.setattr(engine_module, name, self._spy(real))

    def _spy(self, real: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
        def parse(body: bytes) -> Any:
            self.parsed.append(body)
            return real(body)

        return parse


def _webhook_world(kind: str) -> World:
    """A world whose engine checks the URL secret, or only HMAC signatures for ``hmac``."""
    world = make_world(contacts=4, seed=3)
    if "hmac" in kind:
        world.engine = SyncEngine(
            world.emulator.pipedrive_client(),
            world.emulator.mailchimp_client(),
            world.store,
            clock=world.emulator.clock,
            mailchimp_webhook_auth=MailchimpWebhookAuth(signing_secret=SIGNING),
        )
    return world


def _deliver(world: World, url: str, headers: dict[str, str]) -> WebhookResult:
    before = world.emulator.pipedrive.log.requests + world.emulator.mailchimp.log.requests
    answer = world.engine.receive("POST", url, headers, GARBAGE)
    after = world.emulator.pipedrive.log.requests + world.emulator.mailchimp.log.requests
    assert after == before, "a forged delivery caused API calls"
    return answer


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_webhook_is_refused_before_its_body_is_parsed(
    forgery: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery without valid credentials gets 401, and its body never reaches a parser."""
    world = _webhook_world(forgery)
    spy = ParserSpy(monkeypatch)

    answer = _deliver(world, *FORGERIES[forgery](world.emulator.clock.time()))

    assert answer.status == 401
    assert spy.parsed == []
    assert "pipedrive-hook-password" not in (answer.note or "")
    assert "mailchimp-url-secret" not in (answer.note or "")
    LEDGER.record(f"security: forged webhook, {forgery}", faults=1, contacts=0)


@pytest.mark.parametrize("vendor", list(GENUINE))
def test_the_same_body_with_genuine_credentials_reaches_the_parser(
    vendor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: authenticated, the unreadable body is parsed and refused with 400."""
    world = _webhook_world(vendor)
    spy = ParserSpy(monkeypatch)

    answer = _deliver(world, *GENUINE[vendor](world.emulator.clock.time()))

    assert answer.status == 400
    assert spy.parsed == [GARBAGE]


# -- concurrent OAuth refreshes rotate the token once ----------------------------------------

CALLERS: Final = 8


def _oauth_rig(
    *, revoked_early: bool
) -> tuple[Emulator, PipedriveOAuthAuth, PipedriveTokens, list[PipedriveTokens]]:
    """An emulated company, an OAuth auth whose access token no longer works, its first pair.

    The token has either expired on the clock, or (``revoked_early``) expired while the
    pair claims another day of life, so the callers only learn it from a 401.
    """
    emulator = Emulator()
    emulator.seed(contacts=2, seed=1)
    registered = emulator.pipedrive.default_oauth_app
    app = PipedriveOAuthApp(
        client_id=registered.client_id,
        client_secret=registered.client_secret,
        redirect_uri=registered.redirect_uri,
        clock=emulator.clock.now,
    )
    with httpx.Client(transport=emulator.transport) as http:
        first = app.exchange_code(emulator.pipedrive.authorize(), http_client=http)
    held = first
    if revoked_early:
        held = PipedriveTokens(
            access_token=first.access_token,
            refresh_token=first.refresh_token,
            expires_at=first.expires_at + timedelta(days=1),
            api_domain=first.api_domain,
        )
    handed: list[PipedriveTokens] = []
    lock = threading.Lock()

    def store_pair(tokens: PipedriveTokens) -> None:
        with lock:
            handed.append(tokens)

    emulator.advance(3600)
    emulator.pipedrive.log.reset()
    return emulator, PipedriveOAuthAuth(app, held, on_refresh=store_pair), first, handed


def _check_one_rotation(
    emulator: Emulator,
    auth: PipedriveOAuthAuth,
    first: PipedriveTokens,
    handed: list[PipedriveTokens],
    scenario: str,
    *,
    expected_401s: bool,
) -> None:
    (rotated,) = handed
    assert auth.refreshes == 1
    assert auth.tokens is rotated
    assert rotated.refresh_token != first.refresh_token
    log = emulator.pipedrive.log
    assert log.count("get-tokens") == 1, "the refresh token was used more than once"
    statuses = log.statuses()
    # Every caller ends with the new token: one success each, plus the refresh's own.
    assert statuses.pop(200) == CALLERS + 1
    # A token revoked early costs each caller who used it one 401, and nothing else;
    # no 400 means no invalid_grant: no refresh token was used twice.
    refused = statuses.pop(401, 0)
    assert statuses == {}
    assert refused == log.count("getCurrentUser") - CALLERS
    assert (refused > 0) is expected_401s
    with httpx.Client(transport=emulator.transport) as http:
        newer = auth.app.refresh(rotated, http_client=http)  # the rotated pair is alive
    assert newer.refresh_token != rotated.refresh_token
    LEDGER.record(scenario, faults=CALLERS, contacts=0)


@pytest.mark.parametrize("revoked_early", [False, True], ids=["expired", "revoked-401"])
def test_threads_refreshing_at_once_rotate_the_token_exactly_once(revoked_early: bool) -> None:
    """Eight threads meeting an expired token make one refresh and all use the new token."""
    emulator, auth, first, handed = _oauth_rig(revoked_early=revoked_early)
    start = threading.Barrier(CALLERS)
    with PipedriveClient(
        oauth=auth, transport=emulator.transport, retry=RetryPolicy.no_wait(attempts=1)
    ) as client:

        def call() -> int:
            start.wait()
            return client.get_current_user().company_id

        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            companies = list(pool.map(lambda _: call(), range(CALLERS)))

    assert set(companies) == {emulator.pipedrive.default_company.id}
    _check_one_rotation(
        emulator,
        auth,
        first,
        handed,
        f"security: OAuth threads, {revoked_early=}",
        expected_401s=revoked_early,
    )


@pytest.mark.parametrize("revoked_early", [False, True], ids=["expired", "revoked-401"])
async def test_tasks_refreshing_at_once_rotate_the_token_exactly_once(revoked_early: bool) -> None:
    """Eight async tasks meeting an expired token make one refresh and all use the new token."""
    emulator, auth, first, handed = _oauth_rig(revoked_early=revoked_early)
    async with AsyncPipedriveClient(
        oauth=auth, transport=emulator.transport, retry=RetryPolicy.no_wait(attempts=1)
    ) as client:
        users = await asyncio.gather(*(client.get_current_user() for _ in range(CALLERS)))

    assert {user.company_id for user in users} == {emulator.pipedrive.default_company.id}
    _check_one_rotation(
        emulator,
        auth,
        first,
        handed,
        f"security: OAuth tasks, {revoked_early=}",
        expected_401s=revoked_early,
    )


def test_a_lost_token_rotation_fails_the_flow_loudly_and_no_webhook_crashes() -> None:
    """A refresh whose answer is lost after Pipedrive rotated the pair stops the flow, named.

    The spent refresh token is all pdmc still holds, so re-using it is refused
    (``invalid_grant``) and the user must authorize again; pdmc never loops on it: the
    scheduled run reports the OAuthError, and a webhook arriving meanwhile is answered
    (its failed run recorded), not raised into the caller's web framework.
    """
    world = make_world(contacts=12, seed=4)
    emulator = world.emulator
    registered = emulator.pipedrive.default_oauth_app
    app = PipedriveOAuthApp(
        client_id=registered.client_id,
        client_secret=registered.client_secret,
        redirect_uri=registered.redirect_uri,
        clock=emulator.clock.now,
    )
    with httpx.Client(transport=emulator.transport) as http:
        tokens = app.exchange_code(emulator.pipedrive.authorize(), http_client=http)
    handed: list[PipedriveTokens] = []
    oauth = PipedriveOAuthAuth(app, tokens, on_refresh=handed.append)
    world.engine = SyncEngine(
        PipedriveClient(
            oauth=oauth,
            transport=emulator.transport,
            sleep=emulator.clock.sleep,
            clock=emulator.clock.monotonic,
        ),
        emulator.mailchimp_client(),
        world.store,
        clock=emulator.clock,
        pipedrive_webhook_auth=PipedriveWebhookAuth("pdmc", Secret("pipedrive-hook-password")),
        mailchimp_webhook_auth=MailchimpWebhookAuth(url_secret=Secret("mailchimp-url-secret")),
    )
    world.wire_webhooks()
    flow = world.filter_flow()
    world.start(flow)
    world.settle()
    emulator.clock.advance(3600)  # the access token expires; the next call refreshes
    rotations = len(handed)
    emulator.faults.script(
        FaultKind.TIMEOUT_AFTER_COMMIT, service="pipedrive", operation="get-tokens"
    )
    person = next(
        p
        for p in emulator.pipedrive.iter_persons()
        if p["emails"] and (p["custom_fields"].get(world.score_field) or 0) >= SCORE_THRESHOLD
    )

    emulator.pipedrive.update_person(person["id"], {"first_name": "Lost"})
    emulator.deliver_webhooks()  # the delivery meets the lost rotation first
    (report,) = world.engine.run_due() or [world.engine.run_flow(flow.id)]

    assert len(handed) == rotations, "the lost pair cannot have reached pdmc"
    assert emulator.faults.injected[FaultKind.TIMEOUT_AFTER_COMMIT] == 1
    assert any("OAuthError" in e and "invalid_grant" in e for e in report.errors)
    failed = [run for run in world.engine.history(flow.id) if run.status == "failed"]
    assert len(failed) == 2, "the webhook's run and the scheduled run both failed"
    assert all("OAuthError" in (run.error or "") for run in failed)
    LEDGER.record("security: OAuth rotation lost after commit", faults=1, contacts=1)
