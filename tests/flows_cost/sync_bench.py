"""The sync benchmark: pdmc and the naive way on the same jobs, beside the lower bounds.

For a size N, each direction runs one story on a fresh emulator and account (see
:mod:`tests.flows_cost.accounts`): the initial sync, the run after it, an idle run,
and a run after 1 % of the contacts changed. The naive way (:mod:`tests.flows_cost.naive`)
does the same jobs on another fresh copy of the same account. Every count comes from
the emulators' request logs and the Pipedrive rate limiter's own accounting; CPU time
is the process's, less the time spent inside the emulator's transport.

The emulator answers every request in zero emulated time: its clock moves only when
a client waits (for the pacer, a ``Retry-After`` or a backoff) or when the scheduler
lets hours pass between runs. So the rate a run uses is measured in the 2-second
windows of Pipedrive's burst limit: the requests admitted over the request slots of
the windows the run opened (:func:`rate_share`).

The Pipedrive company is on the Professional plan with one seat: 80 requests per
2-second window for an API token, 10 searches per window, and a daily budget of
90,000 tokens. A pdmc run that meets the spent budget's 429 ends there and its flow
runs again after midnight (the scenarios move the clock there); the naive way waits
for midnight. :attr:`Measured.budget_days` says how many days of budget a job costs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any, Final

import httpx
from attrs import define, frozen

from pdmc.emulator import Emulator
from pdmc.emulator.pipedrive import PLANS, BurstUse
from pdmc.emulator.pipedrive._limits import WINDOW_SECONDS
from pdmc.flows import Flow
from tests.flows_cost.accounts import TAG
from tests.flows_cost.naive import NaiveMailchimpToPipedrive, NaivePipedriveToMailchimp
from tests.flows_cost.scenarios import FilterStory, Spent, TagStory

__all__ = [
    "BOUNDS",
    "JOBS",
    "MC_TO_PD",
    "PD_TO_MC",
    "PLAN",
    "Bound",
    "Limits",
    "Measured",
    "measure_size",
    "naive_mc_to_pd",
    "naive_pd_to_mc",
    "pdmc_mc_to_pd",
    "pdmc_pd_to_mc",
    "rate_share",
]

PLAN: Final = "professional"
"""The Pipedrive plan of the emulated company (one seat)."""

_SEARCH_BURST: Final = 10
"""Search requests per 2-second window, on every plan."""

PD_TO_MC: Final = "PD→MC"
MC_TO_PD: Final = "MC→PD"
JOBS: Final = ("initial", "the run after it", "idle", "1% changed")
"""The jobs measured in each direction, in the order they run."""

BOUNDS: Final = {
    (PD_TO_MC, "initial"): "ceil(N/500) person pages + ceil(W/500) batch subscribes + "
    "ceil(M/1000) member pages (M: members in the audience before)",
    (PD_TO_MC, "the run after it"): "1 person page + ceil(R/1000) member pages (R: members "
    "the initial run changed; Mailchimp cannot leave out pdmc's own writes)",
    (PD_TO_MC, "idle"): "1 person page + 1 member page (has anything changed?)",
    (PD_TO_MC, "1% changed"): "ceil(k/500) person pages + ceil(W/500) batch subscribes + "
    "1 member page + 1 PATCH per changed address (no bulk address change)",
    (MC_TO_PD, "initial"): "ceil(N/1000) tag member pages + ceil(P/500) person pages "
    "(P: persons before) + 1 create or update per person written (no bulk write)",
    (MC_TO_PD, "the run after it"): "ceil(N/1000) tag member pages + ceil(R/500) person "
    "pages (R: persons the initial run changed; Pipedrive cannot leave out pdmc's own writes)",
    (MC_TO_PD, "idle"): "ceil(N/1000) tag member pages + 1 person page (Mailchimp "
    "cannot list a tag's members by change date, so each pass reads the tag)",
    (MC_TO_PD, "1% changed"): "ceil(N/1000) tag member pages + 1 person page + "
    "1 create or update per person written",
}
"""How each job's lower bound is made; W is the contacts the job writes, k the changed."""

_PAGE: Final = 500
"""Persons per Pipedrive list page, and rows per Mailchimp batch subscribe."""
_MEMBER_PAGE: Final = 1000
"""Members per Mailchimp list page."""
_LIST_TOKENS: Final = 10
"""Tokens of one Pipedrive person list page."""
_WRITE_TOKENS: Final = 5
"""Tokens of one Pipedrive person create or update."""


@frozen
class Bound:
    """The fewest calls and Pipedrive tokens a job can be done with."""

    calls: int
    tokens: int


def _pages(items: int, size: int) -> int:
    return math.ceil(items / size)


@frozen
class Limits:
    """How one run met the services' limits."""

    windows: int
    """Pipedrive 2-second windows the run opened (in its binding bucket)."""
    share: float
    """Requests admitted over the request slots of those windows (see :func:`rate_share`)."""
    bucket: str
    """The binding bucket: ``general`` (the plan's burst) or ``search`` (10 per window)."""
    burst_429: int
    """Pipedrive requests the burst windows refused."""
    budget_429: int
    """Pipedrive requests refused for the daily token budget."""
    mailchimp_429: int
    """Mailchimp requests refused (too many connections)."""
    forbidden: int
    """403 answers from either service (a client blocked for ignoring 429s)."""
    mailchimp_connections: int
    """The most requests in flight at once to Mailchimp."""
    emulated_seconds: float
    """Emulated time the run took: the waits of its clients."""


def rate_share(
    before: Mapping[str, BurstUse], after: Mapping[str, BurstUse]
) -> tuple[str, int, float]:
    """The binding bucket, its windows and the share of its slots a run used.

    For each bucket, the share is the requests admitted during the run over the
    windows it opened times the bucket's limit (the plan's burst for ``general``, 10
    for ``search``); the bucket with the highest share binds. A run that needs
    fewer requests than one window holds shows a small share: it had no need of more.
    """
    burst = PLANS[PLAN].api_token_burst
    best = ("general", 0, 0.0)
    for bucket, used in after.items():
        start = before.get(bucket, BurstUse(0, 0, 0))
        windows, admitted = used.windows - start.windows, used.admitted - start.admitted
        limit = _SEARCH_BURST if bucket == "search" else burst
        share = admitted / (windows * limit) if windows else 0.0
        if share > best[2]:
            best = (bucket, windows, share)
    return best


@frozen
class Measured:
    """One job done one way: its cost, its bound, how it met the limits, its CPU time."""

    direction: str
    job: str
    way: str
    """``pdmc`` or ``naive``."""
    spent: Spent
    bound: Bound
    limits: Limits
    cpu_seconds: float
    """Process CPU time of the run, less the time spent inside the emulator."""
    daily_budget: int
    started_at: datetime
    """The emulated time the run began."""

    @property
    def contacts(self) -> int:
        """N: the contacts of the account."""
        return self.spent.contacts

    @property
    def per(self) -> int:
        """The contacts the job concerns: the changed ones if some changed, else N."""
        return self.spent.changed or self.spent.contacts

    @property
    def calls(self) -> int:
        """Requests both services answered (refused ones included)."""
        return self.spent.calls_total

    @property
    def tokens(self) -> int:
        """Pipedrive tokens charged."""
        return self.spent.tokens

    @property
    def writes(self) -> int:
        """Write requests, both services."""
        return sum(self.spent.writes.values())

    @property
    def calls_ratio(self) -> float:
        """Calls over the lower bound."""
        return self.calls / self.bound.calls

    @property
    def tokens_ratio(self) -> float:
        """Tokens over the lower bound."""
        return self.tokens / self.bound.tokens

    @property
    def budget_days(self) -> float:
        """Days of the company's daily token budget the job costs."""
        return self.tokens / self.daily_budget

    def row(self) -> dict[str, Any]:
        """The figures as one JSON-ready mapping."""
        return {
            "direction": self.direction,
            "job": self.job,
            "way": self.way,
            "contacts": self.contacts,
            "changed": self.spent.changed,
            "calls": self.calls,
            "calls_per_contact": round(self.calls / self.per, 4),
            "bound_calls": self.bound.calls,
            "calls_over_bound": round(self.calls_ratio, 3),
            "tokens": self.tokens,
            "tokens_per_contact": round(self.tokens / self.per, 4),
            "bound_tokens": self.bound.tokens,
            "tokens_over_bound": round(self.tokens_ratio, 3),
            "writes": self.writes,
            "budget_days": round(self.budget_days, 3),
            "cpu_microseconds_per_contact": round(self.cpu_seconds / self.per * 1e6, 1),
            "limits": {
                "bucket": self.limits.bucket,
                "windows": self.limits.windows,
                "rate_share": round(self.limits.share, 3),
                "burst_429": self.limits.burst_429,
                "budget_429": self.limits.budget_429,
                "mailchimp_429": self.limits.mailchimp_429,
                "forbidden_403": self.limits.forbidden,
                "mailchimp_connections": self.limits.mailchimp_connections,
                "emulated_seconds": round(self.limits.emulated_seconds, 1),
            },
            "pipedrive": {
                op: [c.requests, c.tokens] for op, c in sorted(self.spent.pipedrive.items())
            },
            "mailchimp": {op: c.requests for op, c in sorted(self.spent.mailchimp.items())},
            "counts": {
                action: n
                for action, n in (self.spent.report.counts if self.spent.report else {}).items()
                if n
            },
        }


# -- metering ---------------------------------------------------------------------------


@define
class _Meter:
    """Reads one run's limits and CPU time off an emulator."""

    emulator: Emulator
    inside: float = 0.0
    limits: Limits | None = None
    cpu_seconds: float = 0.0
    started_at: datetime | None = None

    @contextmanager
    def around(self) -> Iterator[None]:
        """Meter what runs inside the block."""
        emulator = self.emulator
        transport = emulator.transport
        answer = transport.handle_request

        def timed(request: httpx.Request) -> httpx.Response:
            began = time.process_time()
            try:
                return answer(request)
            finally:
                self.inside += time.process_time() - began

        transport.handle_request = timed  # type: ignore[method-assign]
        emulator.mailchimp.peak_connections = 0
        # Every run starts in windows of its own, not in one the set-up calls opened.
        emulator.clock.advance(WINDOW_SECONDS)
        use = emulator.pipedrive.limiter.use()
        self.started_at = emulator.clock.now()
        clock = emulator.clock.monotonic()
        cpu = time.process_time()
        try:
            yield
        finally:
            del transport.handle_request  # the class's method answers again
        self.cpu_seconds = time.process_time() - cpu - self.inside
        after = emulator.pipedrive.limiter.use()
        bucket, windows, share = rate_share(use, after)
        refused = sum(u.refused - use.get(b, BurstUse(0, 0, 0)).refused for b, u in after.items())
        pipedrive, mailchimp = emulator.pipedrive.log.statuses(), emulator.mailchimp.log.statuses()
        self.limits = Limits(
            windows=windows,
            share=share,
            bucket=bucket,
            burst_429=refused,
            budget_429=pipedrive.get(429, 0) - refused,
            mailchimp_429=mailchimp.get(429, 0),
            forbidden=pipedrive.get(403, 0) + mailchimp.get(403, 0),
            mailchimp_connections=emulator.mailchimp.peak_connections,
            emulated_seconds=emulator.clock.monotonic() - clock,
        )


def _measured(
    emulator: Emulator,
    direction: str,
    job: str,
    way: str,
    *,
    run: Callable[[], Spent],
    bound: Callable[[Spent], Bound],
) -> Measured:
    meter = _Meter(emulator)
    with meter.around():
        spent = run()
    assert meter.limits is not None  # set when the block ended
    assert meter.started_at is not None  # set when it began
    return Measured(
        direction,
        job,
        way,
        spent,
        bound(spent),
        meter.limits,
        meter.cpu_seconds,
        emulator.pipedrive.default_company.daily_token_budget,
        meter.started_at,
    )


def _naive_run(
    emulator: Emulator, contacts: int, initial: Callable[[], None], poll: Callable[[], None]
) -> Callable[[str, int | None], Spent]:
    """Run a naive job (the initial listing first, polls after) and read its cost."""

    def run(job: str, changed: int | None) -> Spent:
        emulator.pipedrive.log.reset()
        emulator.mailchimp.log.reset()
        (initial if job == JOBS[0] else poll)()
        return Spent(
            job,
            contacts,
            changed,
            emulator.pipedrive.log.by_operation(),
            emulator.mailchimp.log.by_operation(),
            None,
        )

    return run


# -- the lower bounds ---------------------------------------------------------------------


def _written(spent: Spent) -> int:
    """Contacts a pdmc job wrote: the creates and updates of its runs' reports."""
    assert spent.report is not None
    return sum(r.counts["created"] + r.counts["updated"] for r in (*spent.earlier, spent.report))


def _pd_to_mc_bounds(
    persons: int, members_before: int, changed: int, moved: int
) -> dict[str, Callable[[int], Bound]]:
    """Each PD→MC job's bound, given W (the contacts the job writes)."""
    return {
        "initial": lambda w: Bound(
            _pages(persons, _PAGE) + _pages(w, _PAGE) + _pages(members_before, _MEMBER_PAGE),
            _LIST_TOKENS * _pages(persons, _PAGE),
        ),
        "the run after it": lambda w: Bound(1 + max(1, _pages(w, _MEMBER_PAGE)), _LIST_TOKENS),
        "idle": lambda _: Bound(2, _LIST_TOKENS),
        "1% changed": lambda w: Bound(
            _pages(changed, _PAGE) + _pages(w, _PAGE) + 1 + moved,
            _LIST_TOKENS * _pages(changed, _PAGE),
        ),
    }


def _mc_to_pd_bounds(
    members: int, persons_before: int, changed: int
) -> dict[str, Callable[[int], Bound]]:
    """Each MC→PD job's bound, given W (the persons the job creates or updates)."""
    tag_pages = _pages(members, _MEMBER_PAGE)
    return {
        "initial": lambda w: Bound(
            tag_pages + _pages(persons_before, _PAGE) + w,
            _LIST_TOKENS * _pages(persons_before, _PAGE) + _WRITE_TOKENS * w,
        ),
        "the run after it": lambda w: Bound(
            tag_pages + max(1, _pages(w, _PAGE)), _LIST_TOKENS * max(1, _pages(w, _PAGE))
        ),
        "idle": lambda _: Bound(tag_pages + 1, _LIST_TOKENS),
        "1% changed": lambda w: Bound(
            _pages(members + changed // 2, _MEMBER_PAGE) + 1 + w,
            _LIST_TOKENS + _WRITE_TOKENS * w,
        ),
    }


# -- the stories ---------------------------------------------------------------------------


_Story = FilterStory | TagStory


def _jobs(
    story: _Story,
    direction: str,
    way: str,
    *,
    change: Callable[[], None],
    run: Callable[[str, int | None], Spent],
    bound: Callable[[str, Spent, list[Measured]], Bound],
) -> list[Measured]:
    """Run the jobs of :data:`JOBS` in order on one story, letting the interval pass."""
    changed = story.contacts // 100
    rows: list[Measured] = []
    for job in JOBS:
        if job == "1% changed":
            change()
        if job != JOBS[0]:
            story.later()
        count = changed if job == "1% changed" else None
        rows.append(
            _measured(
                story.emulator,
                direction,
                job,
                way,
                run=partial(run, job, count),
                bound=partial(bound, job, rows=rows),
            )
        )
    return rows


def _pdmc_bound(
    bounds: Mapping[str, Callable[[int], Bound]], changed_since: Callable[[datetime], int]
) -> Callable[[str, Spent, list[Measured]], Bound]:
    """A job's bound from W, the contacts it wrote; for the run after the initial one,
    from R, the contacts the initial run changed on the target side (``changed_since``)."""

    def bound(job: str, spent: Spent, rows: list[Measured]) -> Bound:
        if job == "the run after it":
            # Since the start of the initial job's last run: the runs a spent budget
            # ended before it were read back by the runs after them.
            initial = rows[0].spent.report
            assert initial is not None
            return bounds[job](changed_since(initial.started_at))
        return bounds[job](_written(spent))

    return bound


def _same_bound(pdmc: Mapping[str, Measured]) -> Callable[[str, Spent, list[Measured]], Bound]:
    """The naive way's bound: the one pdmc's run of the same job had."""

    def bound(job: str, spent: Spent, rows: list[Measured]) -> Bound:
        del spent, rows
        return pdmc[job].bound

    return bound


def _members_changed(emulator: Emulator, audience_id: str, since: datetime) -> int:
    """Members of the audience whose ``last_changed`` is ``since`` or later."""
    return sum(
        1
        for member in emulator.mailchimp.iter_members(audience_id)
        if datetime.fromisoformat(member["last_changed"]) >= since
    )


def _persons_changed(emulator: Emulator, since: datetime) -> int:
    """Pipedrive persons whose ``update_time`` is ``since`` or later."""
    return sum(
        1
        for person in emulator.pipedrive.iter_persons()
        if datetime.fromisoformat(person["update_time"]) >= since
    )


def _flow(story: _Story) -> Flow:
    return story.engine.get_flow(story.flow_id).flow


def pdmc_pd_to_mc(persons: int) -> list[Measured]:
    """pdmc's Pipedrive-filter flow: initial, the run after it, idle, 1 % changed."""
    story = FilterStory.start(persons)
    changed, audience = persons // 100, story.account.audience_id
    bounds = _pd_to_mc_bounds(
        persons,
        story.emulator.mailchimp.member_count(audience),
        changed,
        moved=changed // 10,  # every tenth change is a new address (FilterStory.change)
    )
    return _jobs(
        story,
        PD_TO_MC,
        "pdmc",
        change=partial(story.change, changed),
        run=lambda job, count: story.run(job, changed=count),
        bound=_pdmc_bound(bounds, partial(_members_changed, story.emulator, audience)),
    )


def pdmc_mc_to_pd(members: int) -> list[Measured]:
    """pdmc's Mailchimp-tag flow: initial, the run after it, idle, 1 % changed."""
    story = TagStory.start(members)
    changed = members // 100
    persons_before = sum(1 for _ in story.emulator.pipedrive.iter_persons())
    return _jobs(
        story,
        MC_TO_PD,
        "pdmc",
        change=partial(story.change, changed // 2),  # half edited profiles, half new members
        run=lambda job, count: story.run(job, changed=count),
        bound=_pdmc_bound(
            _mc_to_pd_bounds(members, persons_before, changed),
            partial(_persons_changed, story.emulator),
        ),
    )


def naive_pd_to_mc(persons: int, pdmc: Mapping[str, Measured]) -> list[Measured]:
    """The naive PD→MC flow on a fresh copy of the account; bounds as pdmc's jobs."""
    story = FilterStory.start(persons)  # its engine never runs: only the account is used
    account = story.account
    naive = NaivePipedriveToMailchimp.on(
        story.emulator,
        story.engine.field_map(_flow(story)),
        account.audience_id,
        account.filter_id,
    )
    return _jobs(
        story,
        PD_TO_MC,
        "naive",
        change=partial(story.change, persons // 100),
        run=_naive_run(story.emulator, persons, naive.initial, naive.poll),
        bound=_same_bound(pdmc),
    )


def naive_mc_to_pd(members: int, pdmc: Mapping[str, Measured]) -> list[Measured]:
    """The naive MC→PD flow on a fresh copy of the account; bounds as pdmc's jobs."""
    story = TagStory.start(members)  # its engine never runs: only the account is used
    account = story.account
    naive = NaiveMailchimpToPipedrive.on(
        story.emulator,
        story.engine.field_map(_flow(story)),
        account.audience_id,
        account.segment_id,
        TAG,
    )
    return _jobs(
        story,
        MC_TO_PD,
        "naive",
        change=partial(story.change, members // 200),
        run=_naive_run(story.emulator, members, naive.initial, naive.poll),
        bound=_same_bound(pdmc),
    )


def measure_size(contacts: int) -> list[Measured]:
    """Every job in both directions, pdmc then naive, for N = ``contacts``."""
    rows: list[Measured] = []
    for ours, theirs in ((pdmc_pd_to_mc, naive_pd_to_mc), (pdmc_mc_to_pd, naive_mc_to_pd)):
        measured = ours(contacts)
        rows += measured
        rows += theirs(contacts, {m.job: m for m in measured})
    return rows
