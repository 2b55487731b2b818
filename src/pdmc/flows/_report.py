"""What a run did: per-contact outcomes, counts, API calls and Pipedrive tokens."""

from __future__ import annotations

import enum
import html
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

from attrs import field, frozen

from pdmc.clients import Usage
from pdmc.errors import FieldMapRuleError

__all__ = [
    "Action",
    "ContactOutcome",
    "Progress",
    "ProgressCallback",
    "SyncPlan",
    "SyncReport",
]

_SHOWN_OUTCOMES: Final = 50


class Action(enum.Enum):
    """What a run did, or would do, with one contact."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRYING = "retrying"


@frozen(kw_only=True)
class ContactOutcome:
    """What happened to one contact, and why.

    ``permanent`` marks a skip or failure that will not go away by itself (an
    unsubscribed member, an invalid email); such rows are reported once, never
    retried forever.
    """

    action: Action
    email: str | None = None
    person_id: int | None = None
    member_id: str | None = None
    reason: str | None = None
    permanent: bool = False
    field_errors: tuple[str, ...] = ()


@frozen(kw_only=True)
class Progress:
    """Where a run is: contacts seen so far and, when known, how many there are."""

    flow_id: str
    done: int
    total: int | None = None


ProgressCallback = Callable[[Progress], None]
"""Called after every batch a run writes; draw a progress bar with it."""


@frozen(kw_only=True)
class SyncReport:
    """What one run of a flow did.

    Attributes:
        flow_id: the flow that ran.
        run_id: the store's id of this run (``None`` for a dry run).
        started_at, finished_at: when it ran, on the engine's clock.
        counts: contacts per action (created, updated, unchanged, skipped, failed,
            retrying).
        outcomes: the outcomes of contacts that were written, skipped or failed (the
            unchanged ones are only counted); the store keeps every outcome.
        skipped_reasons: how many contacts were skipped or failed for each reason.
        pipedrive, mailchimp: the API calls (and Pipedrive tokens) the run spent.
        deactivated: the reason, if the run found the flow's sources gone.
        errors: flow-level problems that did not stop the run (a mapped field that
            disappeared, say), each naming what broke.
        broken_mappings: the pairs this run left out because a field was deleted or
            renamed since the flow was saved, each a :class:`~pdmc.errors.FieldMapRuleError`
            whose ``field`` and ``reason`` name it; the other pairs kept syncing.
        dry_run: whether nothing was written.
    """

    flow_id: str
    run_id: int | None
    started_at: datetime
    finished_at: datetime
    counts: Mapping[str, int]
    outcomes: tuple[ContactOutcome, ...] = ()
    skipped_reasons: Mapping[str, int] = field(factory=dict)
    pipedrive: Usage = field(factory=Usage)
    mailchimp: Usage = field(factory=Usage)
    deactivated: str | None = None
    errors: tuple[str, ...] = ()
    broken_mappings: tuple[FieldMapRuleError, ...] = ()
    dry_run: bool = False

    @property
    def duration(self) -> timedelta:
        """How long the run took on the engine's clock."""
        return self.finished_at - self.started_at

    @property
    def api_calls(self) -> int:
        """Requests sent to both services, retries included."""
        return self.pipedrive.requests + self.mailchimp.requests

    @property
    def tokens(self) -> int:
        """Pipedrive tokens the run spent."""
        return self.pipedrive.tokens

    @property
    def writes(self) -> int:
        """Contacts created or updated."""
        return self.counts.get("created", 0) + self.counts.get("updated", 0)

    def summary(self) -> str:
        """One line for logs and terminals."""
        parts = ", ".join(f"{n} {action}" for action, n in self.counts.items() if n)
        return (
            f"flow {self.flow_id}: {parts or 'nothing to do'}; "
            f"{self.api_calls} API calls, {self.tokens} Pipedrive tokens"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(action)}</th><td>{n}</td></tr>"
            for action, n in self.counts.items()
        )
        extra = (
            f"<tr><th>API calls</th><td>{self.api_calls}</td></tr>"
            f"<tr><th>Pipedrive tokens</th><td>{self.tokens}</td></tr>"
        )
        problems = "".join(f"<li>{html.escape(error)}</li>" for error in self.errors)
        reasons = "".join(
            f"<tr><td>{html.escape(reason)}</td><td>{n}</td></tr>"
            for reason, n in self.skipped_reasons.items()
        )
        notable = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(value))}</td>"
                for value in (o.action.value, o.email or "", o.person_id or "", o.reason or "")
            )
            + "</tr>"
            for o in self.outcomes[:_SHOWN_OUTCOMES]
        )
        title = html.escape(
            f"SyncReport of flow {self.flow_id}" + (" (dry run)" if self.dry_run else "")
        )
        return (
            f"<h4>{title}</h4><table>{rows}{extra}</table>"
            + (f"<h5>Problems</h5><ul>{problems}</ul>" if problems else "")
            + (f"<h5>Skipped and failed, by reason</h5><table>{reasons}</table>" if reasons else "")
            + (
                "<h5>Contacts</h5><table><tr><th>action</th><th>email</th><th>person</th>"
                f"<th>reason</th></tr>{notable}</table>"
                if notable
                else ""
            )
        )


SyncPlan = SyncReport
"""A dry run's result: a report whose outcomes are the writes a run would make."""
