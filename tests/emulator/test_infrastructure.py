"""The emulator's shared infrastructure, tested through a tiny service of its own.

`Shelf` is a test-only fake service (books on a shelf) so the clock, the fault plan,
the transport, the local HTTP server and the service base class are checked without
either vendor emulator.
"""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._faults import Fault, FaultKind, FaultPlan
from pdmc.emulator._server import EmulatorServer
from pdmc.emulator._service import (
    APIProblem,
    EmulatedRequest,
    EmulatedResponse,
    Route,
    Service,
    operation,
)
from pdmc.emulator._transport import EmulatorTransport

HOST = "shelf.test"
KEY = {"x-key": "open-sesame"}


class Shelf(Service):
    """Books by id: list, search, get, add; a key in ``x-key``; reads cost 1, writes 5."""

    name = "shelf"
    default_host = HOST

    def __init__(self) -> None:
        super().__init__()
        self.books: dict[int, str] = {}

    def serves(self, host: str) -> bool:
        return host == HOST

    def admit(self, route: Route, request: EmulatedRequest) -> EmulatedResponse | None:
        del route
        if request.headers.get("x-key") != KEY["x-key"]:
            return self.render_problem(APIProblem(401, "Unauthorized", "a key is needed"))
        return None

    def finish(
        self, route: Route | None, request: EmulatedRequest, response: EmulatedResponse
    ) -> tuple[EmulatedResponse, int]:
        del request
        cost = 0 if route is None or response.status >= 400 else 1 if route.method == "GET" else 5
        return response.with_headers(**{"x-cost": str(cost)}), cost

    def render_problem(self, problem: APIProblem) -> EmulatedResponse:
        return EmulatedResponse.json(
            problem.status, {"error": problem.title, "why": problem.detail}, **problem.headers
        )

    @operation("GET", "/books/{book_id}", "getBook")
    def get_book(self, request: EmulatedRequest) -> EmulatedResponse:
        book_id = int(request.path_params["book_id"])
        if book_id not in self.books:
            raise APIProblem(404, "Not Found", f"no book {book_id}")
        return EmulatedResponse.json(200, {"id": book_id, "title": self.books[book_id]})

    @operation("GET", "/books/search", "searchBooks")
    def search_books(self, request: EmulatedRequest) -> EmulatedResponse:
        term = (request.arg("term") or "").lower()
        found = [i for i, title in self.books.items() if term in title.lower()]
        return EmulatedResponse.json(200, {"ids": found})

    @operation("GET", "/titles/{title}", "getByTitle")
    def get_by_title(self, request: EmulatedRequest) -> EmulatedResponse:
        title = request.path_params["title"]
        found = [i for i, t in self.books.items() if t == title]
        return EmulatedResponse.json(200, {"ids": found})

    @operation("POST", "/books", "addBook")
    def add_book(self, request: EmulatedRequest) -> EmulatedResponse:
        book_id = len(self.books) + 1
        self.books[book_id] = request.json()["title"]
        return EmulatedResponse.json(201, {"id": book_id, "title": self.books[book_id]})


@pytest.fixture
def clock():
    return EmulatorClock()


@pytest.fixture
def shelf():
    return Shelf()


@pytest.fixture
def faults():
    return FaultPlan()


@pytest.fixture
def transport(shelf, faults, clock):
    return EmulatorTransport([shelf], faults, advance=clock.advance)


@pytest.fixture
def client(transport):
    with httpx.Client(transport=transport, base_url=f"https://{HOST}", headers=KEY) as client:
        yield client


# The clock


def test_the_clock_starts_on_a_fixed_day_and_moves_only_when_told(clock) -> None:
    """A new clock reads the same instant every time until it is advanced."""
    start = clock.now()
    assert start == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert clock.now() == start
    assert clock.advance(90) == start + timedelta(seconds=90)
    assert clock.time() == (start + timedelta(seconds=90)).timestamp()
    assert clock.monotonic() == 90


def test_the_clock_never_goes_back() -> None:
    """Advancing by a negative amount or setting an earlier time is refused."""
    clock = EmulatorClock(datetime(2030, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="never goes back"):
        clock.set(datetime(2030, 5, 31, tzinfo=UTC))
    clock.set(datetime(2030, 6, 2, tzinfo=UTC))
    assert clock.monotonic() == 86_400


def test_a_clock_needs_a_timezone() -> None:
    """A naive start time is refused, so emulated time is never ambiguous."""
    with pytest.raises(ValueError, match="timezone-aware"):
        EmulatorClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point


async def test_sleeping_on_the_clock_advances_it_at_once(clock) -> None:
    """sleep and asleep advance emulated time by the delay (a negative one by nothing)."""
    clock.sleep(2.5)
    await clock.asleep(0.5)
    clock.sleep(-3)
    assert clock.monotonic() == 3.0


def test_the_clock_is_safe_to_share_between_threads(clock) -> None:
    """Concurrent advances from several threads all count."""

    def tick() -> None:
        for _ in range(500):
            clock.advance(1)

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.monotonic() == 2000


# The fault plan


def test_scripted_faults_are_used_in_order_by_matching_requests(faults) -> None:
    """Each scripted fault goes to the first request matching its service and operation."""
    faults.script(FaultKind.SERVER_ERROR, operation="addBook")
    faults.script(Fault(FaultKind.SLOW, seconds=7), service="shelf", times=2)
    assert faults.draw("other", "getBook") is None
    assert faults.draw("shelf", "getBook") == Fault(FaultKind.SLOW, seconds=7)
    assert faults.draw("shelf", "addBook") == Fault(FaultKind.SERVER_ERROR)
    assert faults.draw("shelf", "addBook") == Fault(FaultKind.SLOW, seconds=7)
    assert faults.draw("shelf", "addBook") is None
    assert faults.injected == {FaultKind.SERVER_ERROR: 1, FaultKind.SLOW: 2}


def test_random_faults_repeat_for_the_same_seed_and_traffic() -> None:
    """Two plans with the same seed fail the same requests the same way; another seed differs."""
    kinds = (FaultKind.RATE_LIMIT, FaultKind.TIMEOUT_AFTER_COMMIT, FaultKind.TRUNCATED_JSON)
    traffic = [("shelf", "getBook" if i % 3 else "addBook") for i in range(300)]

    def outcomes(seed: int) -> list[FaultKind | None]:
        plan = FaultPlan()
        plan.random(0.3, kinds=kinds, seed=seed)
        return [getattr(plan.draw(*request), "kind", None) for request in traffic]

    first = outcomes(42)
    assert first == outcomes(42)
    assert first != outcomes(43)
    assert set(first) == {None, *kinds}
    assert 50 < sum(kind is not None for kind in first) < 130


def test_scripted_faults_come_before_random_ones_and_clear_empties_the_plan(faults) -> None:
    """A scripted fault wins over a random rule; clear() removes both but keeps the counts."""
    faults.random(1.0, kinds=[FaultKind.SERVER_ERROR], operation="getBook")
    faults.script(FaultKind.FORBIDDEN_HTML)
    assert faults.draw("shelf", "getBook") == Fault(FaultKind.FORBIDDEN_HTML)
    assert faults.draw("shelf", "getBook") == Fault(FaultKind.SERVER_ERROR)
    assert faults.draw("shelf", "addBook") is None
    faults.clear()
    assert faults.draw("shelf", "getBook") is None
    assert sum(faults.injected.values()) == 2


def test_a_fault_rate_must_be_a_probability(faults) -> None:
    """A rate outside 0..1 is refused."""
    with pytest.raises(ValueError, match="probability"):
        faults.random(1.5)


# The transport, fault by fault


def test_a_request_reaches_its_handler_through_the_transport(client, shelf) -> None:
    """Without faults the service answers, sets its headers and counts the request."""
    created = client.post("/books", json={"title": "Moby-Dick"})
    assert created.status_code == 201
    assert created.headers["x-cost"] == "5"
    assert client.get("/books/1").json() == {"id": 1, "title": "Moby-Dick"}
    assert shelf.books == {1: "Moby-Dick"}


def test_a_host_no_service_serves_is_unreachable(transport) -> None:
    """A request to an unknown host fails like an unreachable one."""
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.get("https://elsewhere.test/books")


def test_a_rate_limit_fault_answers_429_with_retry_after(client, faults, shelf) -> None:
    """RATE_LIMIT answers 429 in the service's format with Retry-After; nothing is written."""
    faults.script(Fault(FaultKind.RATE_LIMIT, seconds=12))
    response = client.post("/books", json={"title": "Emma"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "12"
    assert response.json()["error"] == "Too Many Requests"
    assert shelf.books == {}


def test_a_bare_rate_limit_fault_has_neither_headers_nor_body(client, faults) -> None:
    """RATE_LIMIT_NO_HEADERS answers 429 with no Retry-After and an empty body."""
    faults.script(FaultKind.RATE_LIMIT_NO_HEADERS)
    response = client.get("/books/search")
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert response.content == b""


def test_a_server_error_fault_answers_503_in_the_service_format(client, faults) -> None:
    """SERVER_ERROR answers 503 rendered by the service, without Retry-After."""
    faults.script(FaultKind.SERVER_ERROR)
    response = client.get("/books/search")
    assert response.status_code == 503
    assert response.json()["error"] == "Service Unavailable"
    assert "retry-after" not in response.headers


def test_forbidden_faults_answer_without_a_body_or_with_html(client, faults) -> None:
    """FORBIDDEN_NO_BODY is a body-less 403; FORBIDDEN_HTML is a 403 HTML page."""
    faults.script(FaultKind.FORBIDDEN_NO_BODY)
    faults.script(FaultKind.FORBIDDEN_HTML)
    bare = client.get("/books/search")
    html = client.get("/books/search")
    assert (bare.status_code, bare.content) == (403, b"")
    assert html.status_code == 403
    assert html.headers["content-type"] == "text/html"
    assert html.text.startswith("<html>")


def test_a_timeout_before_commit_leaves_the_state_alone(client, faults, shelf) -> None:
    """TIMEOUT_BEFORE_COMMIT raises a read timeout and the write never happens."""
    faults.script(FaultKind.TIMEOUT_BEFORE_COMMIT)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/books", json={"title": "Emma"})
    assert shelf.books == {}
    assert shelf.log.requests == 0


def test_a_timeout_after_commit_keeps_the_write(client, faults, shelf) -> None:
    """TIMEOUT_AFTER_COMMIT raises a read timeout after the service acted."""
    faults.script(FaultKind.TIMEOUT_AFTER_COMMIT)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/books", json={"title": "Emma"})
    assert shelf.books == {1: "Emma"}
    assert shelf.log.count("addBook") == 1


def test_a_connection_reset_fails_before_the_service_reads(client, faults, shelf) -> None:
    """CONNECTION_RESET raises a connect error and the write never happens."""
    faults.script(FaultKind.CONNECTION_RESET)
    with pytest.raises(httpx.ConnectError, match="reset"):
        client.post("/books", json={"title": "Emma"})
    assert shelf.books == {}


def test_a_truncated_body_follows_a_committed_write(client, faults, shelf) -> None:
    """TRUNCATED_JSON cuts the body in half, keeping the status, after the write happened."""
    faults.script(FaultKind.TRUNCATED_JSON)
    response = client.post("/books", json={"title": "Emma"})
    assert response.status_code == 201
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert shelf.books == {1: "Emma"}


def test_a_slow_fault_advances_the_clock_and_then_answers(client, faults, clock) -> None:
    """SLOW moves emulated time forward by its seconds and answers normally."""
    faults.script(Fault(FaultKind.SLOW, seconds=31), operation="searchBooks")
    response = client.get("/books/search")
    assert response.status_code == 200
    assert clock.monotonic() == 31


def test_random_faults_through_the_transport_repeat_for_the_same_seed() -> None:
    """The same seed and the same traffic give the same statuses and errors, request by request."""

    def run(seed: int) -> list[object]:
        faults = FaultPlan()
        faults.random(
            0.4,
            kinds=[FaultKind.RATE_LIMIT, FaultKind.TIMEOUT_BEFORE_COMMIT, FaultKind.SERVER_ERROR],
            seed=seed,
        )
        transport = EmulatorTransport([Shelf()], faults, advance=EmulatorClock().advance)
        seen: list[object] = []
        with httpx.Client(transport=transport, base_url=f"https://{HOST}", headers=KEY) as client:
            for number in range(60):
                try:
                    seen.append(client.post("/books", json={"title": f"Book {number}"}).status_code)
                except httpx.ReadTimeout:
                    seen.append("timeout")
        return seen

    first = run(7)
    assert first == run(7)
    assert {201, 429, 503, "timeout"} <= set(first)
    assert first != run(8)


def test_faults_target_one_operation_only(client, faults) -> None:
    """A fault scripted for one operation leaves the others alone."""
    faults.script(FaultKind.SERVER_ERROR, operation="addBook")
    assert client.get("/books/search").status_code == 200
    assert client.post("/books", json={"title": "Emma"}).status_code == 503


def test_the_transport_calls_back_after_each_request(shelf, faults, clock) -> None:
    """after_request runs after every request, a timeout after the write included.

    The emulator delivers webhooks there, and a write the client never heard back
    from still notifies, as the real services do.
    """
    calls: list[int] = []
    transport = EmulatorTransport(
        [shelf], faults, advance=clock.advance, after_request=lambda: calls.append(1)
    )
    faults.script(FaultKind.TIMEOUT_AFTER_COMMIT)
    with httpx.Client(transport=transport, base_url=f"https://{HOST}", headers=KEY) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/books", json={"title": "Emma"})
        client.get("/books/search")
    assert len(calls) == 2


async def test_requests_past_the_connection_limit_get_429(faults, clock) -> None:
    """With a limit of two, a third simultaneous request is refused with 429 and counted."""

    class NarrowShelf(Shelf):
        connection_limit = 2

    shelf = NarrowShelf()
    transport = EmulatorTransport([shelf], faults, advance=clock.advance)
    async with httpx.AsyncClient(
        transport=transport, base_url=f"https://{HOST}", headers=KEY
    ) as client:
        responses = await asyncio.gather(*(client.get("/books/search") for _ in range(3)))
        later = await client.get("/books/search")
    assert sorted(r.status_code for r in responses) == [200, 200, 429]
    assert later.status_code == 200
    assert shelf.peak_connections == 2
    assert shelf.log.count("connection_limit") == 1


# The service base class


def test_literal_path_segments_win_over_parameters(client, shelf) -> None:
    """/books/search reaches its own handler, not /books/{book_id} declared before it."""
    client.post("/books", json={"title": "Emma"})
    assert client.get("/books/search", params={"term": "EM"}).json() == {"ids": [1]}
    assert client.get("/books/1").json()["title"] == "Emma"
    assert shelf.log.count("searchBooks") == 1
    assert shelf.log.count("getBook") == 1


def test_routes_are_matched_by_method_and_whole_path(shelf) -> None:
    """match() needs the method and the full path; parameters never span a slash."""
    found = shelf.match("GET", "/books/17")
    assert found is not None
    assert found[0].operation_id == "getBook"
    assert found[1] == {"book_id": "17"}
    assert shelf.match("DELETE", "/books/17") is None
    assert shelf.match("GET", "/books/17/pages") is None


def test_a_raised_api_problem_is_rendered_by_the_service(client) -> None:
    """An APIProblem from a handler becomes the service's own error body and status."""
    response = client.get("/books/99")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "why": "no book 99"}
    assert response.headers["x-cost"] == "0"


def test_an_unknown_path_is_a_rendered_404_logged_as_unknown(client, shelf) -> None:
    """A path no operation serves answers 404 in the service's format and counts as unknown."""
    response = client.get("/magazines")
    assert response.status_code == 404
    assert response.json()["error"] == "Resource Not Found"
    assert shelf.log.count("unknown") == 1


def test_admit_refuses_before_the_handler_runs(transport, shelf) -> None:
    """A request admit() refuses never reaches its handler, yet is answered and counted."""
    with httpx.Client(transport=transport, base_url=f"https://{HOST}") as anonymous:
        response = anonymous.post("/books", json={"title": "Emma"})
    assert response.status_code == 401
    assert shelf.books == {}
    assert shelf.log.statuses() == {401: 1}


def test_the_request_log_counts_requests_tokens_and_statuses(client, shelf) -> None:
    """The log keeps per-operation requests and tokens, statuses, totals, and resets."""
    client.post("/books", json={"title": "Emma"})
    client.post("/books", json={"title": "Persuasion"})
    client.get("/books/2")
    client.get("/books/9")
    by_operation = shelf.log.by_operation()
    assert by_operation["addBook"].requests == 2
    assert by_operation["addBook"].tokens == 10
    assert by_operation["getBook"].requests == 2
    assert by_operation["getBook"].tokens == 1
    assert (shelf.log.requests, shelf.log.tokens) == (4, 11)
    assert shelf.log.statuses() == {201: 2, 200: 1, 404: 1}
    shelf.log.reset()
    assert (shelf.log.requests, shelf.log.tokens, shelf.log.by_operation()) == (0, 0, {})


def test_a_request_reads_its_query_json_and_form() -> None:
    """EmulatedRequest gives the first query value, the JSON body and a form body."""
    request = EmulatedRequest(
        method="POST",
        host=HOST,
        path="/x",
        query=EmulatedRequest.parse_query("a=1&a=2&empty="),
        body=b"type=subscribe&data%5Bemail%5D=a%40b.org",
    )
    assert request.arg("a") == "1"
    assert request.arg("empty") == ""
    assert request.arg("missing", "d") == "d"
    assert request.form() == {"type": "subscribe", "data[email]": "a@b.org"}
    assert EmulatedRequest(method="GET", host=HOST, path="/").json() is None


# The local HTTP server


@pytest.fixture
def served(transport, shelf):
    with EmulatorServer(transport, host="127.0.0.1", ports={shelf: 0}) as server:
        yield server


def test_the_server_answers_a_plain_http_client_on_localhost(served, shelf) -> None:
    """A raw httpx client talks to the served service: same handlers, same state."""
    url = served.url_of(shelf)
    assert served.urls == {"shelf": url}
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=url, headers=KEY) as client:
        created = client.post("/books", json={"title": "Les Misérables"})
        assert created.status_code == 201
        assert created.headers["x-cost"] == "5"
        assert client.get("/books/search", params={"term": "misé"}).json() == {"ids": [1]}
        assert client.get("/books/1").json()["title"] == "Les Misérables"
        assert client.get("/books/2").status_code == 404
    assert shelf.books == {1: "Les Misérables"}
    assert shelf.log.count("addBook") == 1


def test_the_server_decodes_paths_as_the_in_process_transport_does(served, shelf, client) -> None:
    """A percent-encoded path parameter reaches the handler decoded, over HTTP and in-process."""
    client.post("/books", json={"title": "Le Père Goriot"})
    with httpx.Client(base_url=served.url_of(shelf), headers=KEY) as http:
        over_http = http.get("/titles/Le Père Goriot").json()
    assert over_http == client.get("/titles/Le Père Goriot").json() == {"ids": [1]}


def test_a_timeout_fault_over_http_drops_the_connection(served, shelf, faults) -> None:
    """Over HTTP a timeout or reset fault closes the connection without an answer."""
    faults.script(FaultKind.TIMEOUT_AFTER_COMMIT)
    with httpx.Client(base_url=served.url_of(shelf), headers=KEY) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/books", json={"title": "Emma"})
        assert client.get("/books/1").json()["title"] == "Emma"


def test_a_stopped_server_refuses_connections(transport, shelf) -> None:
    """After the context ends the port is closed."""
    with EmulatorServer(transport, host="127.0.0.1", ports={shelf: 0}) as server:
        url = server.url_of(shelf)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/books/search", headers=KEY)


def test_a_server_that_cannot_bind_every_port_closes_the_others(transport, shelf) -> None:
    """When a later port is taken, the ports already bound are released, not leaked."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            EmulatorServer(
                transport, host="127.0.0.1", ports={shelf: 0, Shelf(): taken.getsockname()[1]}
            )
    gc.collect()  # a leaked socket would warn here, and warnings are errors


# The Date header


@pytest.fixture
def dated(shelf, faults, clock):
    """A transport that stamps each response with the emulator clock, as real servers do."""
    return EmulatorTransport([shelf], faults, advance=clock.advance, now=clock.now)


def test_every_response_carries_the_emulated_time_as_its_date(dated, faults, clock) -> None:
    """Answers and fault refusals alike carry Date in RFC 7231 form, from the emulator clock."""
    clock.advance(3723.5)
    faults.script(Fault(FaultKind.RATE_LIMIT, seconds=3))
    with httpx.Client(transport=dated, base_url=f"https://{HOST}", headers=KEY) as client:
        refused = client.get("/books/1")
        answered = client.get("/books/1")
    assert (refused.status_code, answered.status_code) == (429, 404)
    assert refused.headers["date"] == answered.headers["date"] == "Mon, 05 Jan 2026 10:02:03 GMT"


async def test_async_responses_carry_the_date_too(dated, clock) -> None:
    """The async path stamps its responses as the sync one does."""
    async with httpx.AsyncClient(transport=dated, base_url=f"https://{HOST}", headers=KEY) as c:
        response = await c.get("/books/search")
    assert response.headers["date"] == "Mon, 05 Jan 2026 09:00:00 GMT"
    assert clock.now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_the_server_sends_one_date_the_emulated_one(dated, shelf, clock) -> None:
    """Over HTTP the emulated Date replaces the host's: one header, the emulator's time."""
    clock.advance(86400)
    with EmulatorServer(dated, host="127.0.0.1", ports={shelf: 0}) as server:
        response = httpx.get(f"{server.url_of(shelf)}/books/search", headers=KEY)
    assert response.headers.get_list("date") == ["Tue, 06 Jan 2026 09:00:00 GMT"]
    assert response.headers["server"]


def test_without_a_clock_the_transport_sends_no_date(client) -> None:
    """A transport made without ``now`` adds no Date header."""
    assert "date" not in client.get("/books/search").headers
