"""The sync benchmark's claims at N = 1,000: counts and ratios only, never the clock.

The same scenarios as ``benchmarks/bench_sync.py`` (one story per direction and way),
so what the benchmark prints at 100,000 is what these tests hold at 1,000.
"""

from __future__ import annotations

import pytest

from pdmc.emulator.pipedrive import BurstUse
from tests.flows_cost.sync_bench import (
    JOBS,
    MC_TO_PD,
    PD_TO_MC,
    Measured,
    measure_size,
    rate_share,
)

N = 1_000


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str, str], Measured]:
    """Every job of both directions, pdmc and naive, at N = 1,000, by (direction, job, way)."""
    return {(m.direction, m.job, m.way): m for m in measure_size(N)}


def _pdmc(runs: dict[tuple[str, str, str], Measured], direction: str, job: str) -> Measured:
    return runs[(direction, job, "pdmc")]


def test_every_job_is_measured_both_ways(runs: dict[tuple[str, str, str], Measured]) -> None:
    """Each direction has its four jobs, done by pdmc and by the naive way."""
    assert set(runs) == {
        (direction, job, way)
        for direction in (PD_TO_MC, MC_TO_PD)
        for job in JOBS
        for way in ("pdmc", "naive")
    }


@pytest.mark.parametrize(
    ("direction", "job", "factor"),
    [
        # Within a stated factor of the bound; the constant calls (catalogs, the
        # filter or tag check, archived members) dominate at small N.
        (PD_TO_MC, "initial", 2.5),
        (PD_TO_MC, "the run after it", 4.0),
        (PD_TO_MC, "idle", 4.0),
        (PD_TO_MC, "1% changed", 2.5),
        (MC_TO_PD, "initial", 1.1),
        (MC_TO_PD, "the run after it", 2.5),
        (MC_TO_PD, "idle", 3.0),
        (MC_TO_PD, "1% changed", 1.6),
    ],
)
def test_calls_stay_within_a_stated_factor_of_the_lower_bound(
    runs: dict[tuple[str, str, str], Measured], direction: str, job: str, factor: float
) -> None:
    """pdmc's calls for each job are at least the lower bound and at most the stated factor."""
    measured = _pdmc(runs, direction, job)
    assert measured.bound.calls <= measured.calls <= factor * measured.bound.calls


def test_initial_syncs_cost_far_less_than_the_naive_way(
    runs: dict[tuple[str, str, str], Measured],
) -> None:
    """The naive initial syncs make over 50 times pdmc's calls one way and 2.5 times the other."""
    pd_to_mc = (runs[(PD_TO_MC, "initial", "naive")], _pdmc(runs, PD_TO_MC, "initial"))
    mc_to_pd = (runs[(MC_TO_PD, "initial", "naive")], _pdmc(runs, MC_TO_PD, "initial"))
    assert pd_to_mc[0].calls > 50 * pd_to_mc[1].calls
    assert mc_to_pd[0].calls > 2.5 * mc_to_pd[1].calls
    assert mc_to_pd[0].tokens > 6 * mc_to_pd[1].tokens  # a 20-token search per member


def test_idle_runs_write_nothing(runs: dict[tuple[str, str, str], Measured]) -> None:
    """The run after the initial sync and the idle run make zero writes in both directions."""
    for direction in (PD_TO_MC, MC_TO_PD):
        for job in ("the run after it", "idle"):
            assert _pdmc(runs, direction, job).spent.writes == {}


def test_the_one_percent_run_writes_only_the_changed(
    runs: dict[tuple[str, str, str], Measured],
) -> None:
    """After 1 % changed, pdmc writes one batch (plus address moves) or one write per person."""
    pd_to_mc = _pdmc(runs, PD_TO_MC, "1% changed")
    assert pd_to_mc.spent.writes == {"postListsId": 1, "patchListsIdMembersId": N // 1000}
    mc_to_pd = _pdmc(runs, MC_TO_PD, "1% changed")
    assert sum(mc_to_pd.spent.writes.values()) == N // 100


def test_pdmc_meets_no_refusal_and_holds_one_mailchimp_connection(
    runs: dict[tuple[str, str, str], Measured],
) -> None:
    """No 429 or 403 on any pdmc run, and never more than 10 (here: one) Mailchimp connections."""
    for (_, _, way), measured in runs.items():
        if way != "pdmc":
            continue
        limits = measured.limits
        assert (limits.burst_429, limits.budget_429, limits.mailchimp_429) == (0, 0, 0)
        assert limits.forbidden == 0
        assert limits.mailchimp_connections == 1


def test_the_initial_mc_to_pd_sync_uses_nearly_the_whole_request_rate(
    runs: dict[tuple[str, str, str], Measured],
) -> None:
    """Pacing by the rate-limit headers fills over 85 % of the 2-second windows' slots."""
    limits = _pdmc(runs, MC_TO_PD, "initial").limits
    assert limits.bucket == "general"
    assert limits.windows >= 9
    assert limits.share > 0.85


def test_the_initial_mc_to_pd_sync_creates_one_person_per_new_address(
    runs: dict[tuple[str, str, str], Measured],
) -> None:
    """pdmc's creates are the bound's: one per synced member without a person, no search."""
    spent = _pdmc(runs, MC_TO_PD, "initial").spent
    assert spent.report is not None
    assert spent.calls("addPerson") == spent.report.counts["created"]
    assert spent.calls("searchPersons") == 0


def test_rate_share_counts_slots_of_the_windows_a_run_opened() -> None:
    """Admitted requests over windows times limit, the fullest bucket binding."""
    before = {"general": BurstUse(1, 10, 0)}
    after = {"general": BurstUse(3, 130, 2), "search": BurstUse(1, 5, 0)}
    assert rate_share(before, after) == ("general", 2, 120 / 160)
    assert rate_share(after, after) == ("general", 0, 0.0)
