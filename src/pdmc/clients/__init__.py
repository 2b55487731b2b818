"""Typed clients of the Pipedrive and Mailchimp APIs over one shared HTTP core.

The core (retries, pacing, pagination, error mapping, usage counters) knows no
vendor; :mod:`pdmc.clients.pipedrive` and :mod:`pdmc.clients.mailchimp` hold the
clients, their models and their OAuth helpers.
"""

from __future__ import annotations

from pdmc.clients._core import OperationUsage, Usage
from pdmc.clients._pagination import AsyncPageIterator, Page, PageIterator
from pdmc.clients._retry import RetryPolicy
from pdmc.clients.mailchimp import AsyncMailchimpClient, MailchimpClient
from pdmc.clients.pipedrive import AsyncPipedriveClient, PipedriveClient

__all__ = [
    "AsyncMailchimpClient",
    "AsyncPageIterator",
    "AsyncPipedriveClient",
    "MailchimpClient",
    "OperationUsage",
    "Page",
    "PageIterator",
    "PipedriveClient",
    "RetryPolicy",
    "Usage",
]
