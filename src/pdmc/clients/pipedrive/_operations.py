"""Every Pipedrive operation the clients call, with its ``x-token-cost`` from the contracts.

A test compares this table with ``x-token-cost`` in the official v1 and v2 contracts,
so a price change there fails the suite instead of silently mispricing a sync.
"""

from __future__ import annotations

from typing import Final

from pdmc.clients._core import Operation

__all__ = ["OPERATIONS"]

_V2: Final = "/api/v2"
_V1: Final = "/v1"

OPERATIONS: Final[dict[str, Operation]] = {
    op.id: op
    for op in (
        Operation("getPersons", "GET", f"{_V2}/persons", 10),
        Operation("getPerson", "GET", f"{_V2}/persons/{{id}}", 1),
        Operation("addPerson", "POST", f"{_V2}/persons", 5),
        Operation("updatePerson", "PATCH", f"{_V2}/persons/{{id}}", 5),
        Operation("searchPersons", "GET", f"{_V2}/persons/search", 20),
        Operation("getPersonFields", "GET", f"{_V2}/personFields", 10),
        Operation("getPipelines", "GET", f"{_V2}/pipelines", 5),
        Operation("getStages", "GET", f"{_V2}/stages", 5),
        Operation("getDeal", "GET", f"{_V2}/deals/{{id}}", 1),
        Operation("getDeals", "GET", f"{_V2}/deals", 10),
        Operation("getFilters", "GET", f"{_V1}/filters", 20),
        Operation("getFilter", "GET", f"{_V1}/filters/{{id}}", 2),
        Operation("addFilter", "POST", f"{_V1}/filters", 10),
        Operation("updateFilter", "PUT", f"{_V1}/filters/{{id}}", 10),
        Operation("deleteFilter", "DELETE", f"{_V1}/filters/{{id}}", 6),
        Operation("getDealParticipants", "GET", f"{_V1}/deals/{{id}}/participants", 10),
        Operation("getWebhooks", "GET", f"{_V1}/webhooks", 10),
        Operation("addWebhook", "POST", f"{_V1}/webhooks", 10),
        Operation("deleteWebhook", "DELETE", f"{_V1}/webhooks/{{id}}", 6),
        Operation("getCurrentUser", "GET", f"{_V1}/users/me", 2),
        Operation("getRecents", "GET", f"{_V1}/recents", 20),
    )
}
