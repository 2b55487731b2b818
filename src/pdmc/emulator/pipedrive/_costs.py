"""What each emulated operation costs from the daily token budget.

The figures are Pipedrive's ``x-token-cost`` from the official v1 and v2 contracts.
The contracts are not shipped with pdmc, so the emulator keeps its own copy here;
``tests/emulator/pipedrive`` compares this table with the contracts, so a price
change there fails the suite instead of silently mispricing a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["TOKEN_COSTS"]

TOKEN_COSTS: Final[Mapping[tuple[str, str], int]] = MappingProxyType(
    {
        # Persons, on v2 (merging is v1 only).
        ("GET", "/api/v2/persons"): 10,
        ("POST", "/api/v2/persons"): 5,
        ("GET", "/api/v2/persons/search"): 20,
        ("GET", "/api/v2/persons/{id}"): 1,
        ("PATCH", "/api/v2/persons/{id}"): 5,
        ("DELETE", "/api/v2/persons/{id}"): 3,
        ("PUT", "/v1/persons/{id}/merge"): 40,
        # Person fields, on v2.
        ("GET", "/api/v2/personFields"): 10,
        ("POST", "/api/v2/personFields"): 5,
        ("GET", "/api/v2/personFields/{field_code}"): 1,
        # Filters, on v1 only.
        ("GET", "/v1/filters"): 20,
        ("POST", "/v1/filters"): 10,
        ("GET", "/v1/filters/{id}"): 2,
        ("PUT", "/v1/filters/{id}"): 10,
        ("DELETE", "/v1/filters/{id}"): 6,
        # Pipelines, stages and deals on v2; deal participants on v1.
        ("GET", "/api/v2/pipelines"): 5,
        ("GET", "/api/v2/pipelines/{id}"): 1,
        ("GET", "/api/v2/stages"): 5,
        ("GET", "/api/v2/stages/{id}"): 1,
        ("GET", "/api/v2/deals"): 10,
        ("POST", "/api/v2/deals"): 5,
        ("GET", "/api/v2/deals/{id}"): 1,
        ("PATCH", "/api/v2/deals/{id}"): 5,
        ("GET", "/v1/deals/{id}/participants"): 10,
        # Webhooks, the current user and recents, on v1.
        ("GET", "/v1/webhooks"): 10,
        ("POST", "/v1/webhooks"): 10,
        ("DELETE", "/v1/webhooks/{id}"): 6,
        ("GET", "/v1/users/me"): 2,
        ("GET", "/v1/recents"): 20,
        # The OAuth token endpoint on oauth.pipedrive.com costs nothing.
        ("POST", "/oauth/token"): 0,
        ("POST", "/oauth/token/"): 0,
    }
)
"""``x-token-cost`` per ``(method, path template)``, templates spelled as in the contracts."""
