"""Small result types of the engine: flow states, previews, webhook answers and setups."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from pdmc.flows._flow import Flow
from pdmc.storage import FlowRecord

__all__ = ["FlowState", "Preview", "PreviewRow", "WebhookResult", "WebhookSetup"]


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


@frozen
class FlowState:
    """A saved flow with what the store knows of it: status, reason, schedule."""

    flow: Flow
    record: FlowRecord = field(repr=False)

    @property
    def id(self) -> str:
        """The flow's id."""
        return self.flow.id

    @property
    def status(self) -> str:
        """``active``, ``paused`` or ``deactivated``."""
        return self.record.status

    @property
    def status_reason(self) -> str | None:
        """Why the flow was deactivated, if it was."""
        return self.record.status_reason

    def _repr_html_(self) -> str:
        flow = self.flow
        rows = [
            ("name", flow.name),
            ("trigger", flow.trigger.describe()),
            ("direction", flow.direction.arrow),
            ("audience", flow.audience_id),
            ("tag", flow.tag or ""),
            ("new members", flow.new_member_status),
            ("fields", ", ".join(f"{p.pipedrive} ↔ {p.mailchimp}" for p in flow.pairs)),
            ("status", self.status + (f" ({self.status_reason})" if self.status_reason else "")),
            ("next run", self.record.next_run_at or ""),
        ]
        return f"<h4>Flow {html.escape(flow.id)}</h4>" + _table(("", ""), rows)


@frozen(kw_only=True)
class PreviewRow:
    """One contact a flow would sync, with the values it would write."""

    email: str | None
    name: str | None
    values: Mapping[str, Any]
    problems: tuple[str, ...] = ()


@frozen(kw_only=True)
class Preview:
    """The first contacts a flow would sync, before it is saved or activated."""

    flow_id: str
    trigger: str
    rows: tuple[PreviewRow, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def _repr_html_(self) -> str:
        rows = [
            (
                r.email or "",
                r.name or "",
                ", ".join(f"{k}={v}" for k, v in r.values.items()),
                "; ".join(r.problems),
            )
            for r in self.rows
        ]
        title = f"<h4>Preview of {html.escape(self.flow_id)}: {html.escape(self.trigger)}</h4>"
        return title + _table(("email", "name", "values", "problems"), rows)


@frozen(kw_only=True)
class WebhookResult:
    """How to answer a webhook delivery, and what it did.

    Answer the sender with :attr:`status`; 2xx means the delivery was taken (or was
    a duplicate), 401 that it failed authentication, 400 that its body was malformed.
    """

    status: int
    synced: int = 0
    duplicate: bool = False
    note: str | None = None


@frozen(kw_only=True)
class WebhookSetup:
    """What :meth:`~pdmc.flows.SyncEngine.ensure_webhooks` changed."""

    created: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was created or deleted."""
        return bool(self.created or self.deleted)
