"""From a URL to a contract, and from a method and path to one documented operation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import httpx

from ._documents import Contract, JsonObject, iter_operations

# Pipedrive answers on api.pipedrive.com and, for OAuth apps, on the company domain
# from the token response (e.g. acme.pipedrive.com) with the same paths (API-FACTS 1.1).
_PIPEDRIVE_HOST = re.compile(r"[a-z0-9][a-z0-9-]*\.pipedrive\.com")
_PIPEDRIVE_OAUTH_SERVER = "https://oauth.pipedrive.com"
# Mailchimp 3.0.81 declares the literal host "server.api.mailchimp.com", where
# "server" stands for the data centre (us6, ...); current docs use the bare host.
_MAILCHIMP_HOST = re.compile(r"(?:[a-z]+[0-9]+\.)?api\.mailchimp\.com")
_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Operation:
    """One documented operation: where it is, its ``operationId`` and its token cost.

    ``path_template`` is as the contract spells it (``/persons/{id}``), relative to
    ``server_url``; ``token_cost`` is Pipedrive's ``x-token-cost`` (None for Mailchimp).
    """

    contract: Contract
    server_url: str
    method: str
    path_template: str
    operation_id: str
    token_cost: int | None
    deprecated: bool

    @property
    def url_template(self) -> str:
        """The path template as it appears in a URL, e.g. ``/api/v2/persons/{id}``."""
        return urlsplit(self.server_url).path + self.path_template

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method} {self.url_template}, {self.contract})"


@dataclass(frozen=True)
class Location:
    """Which contract covers a URL, on which of its servers, and the path below it."""

    contract: Contract
    server_url: str
    path: str


@dataclass(frozen=True)
class _PathRoute:
    server_url: str
    pattern: re.Pattern[str]
    variables: tuple[str, ...]
    operations: dict[str, Operation] = field(default_factory=dict)


class Router:
    """Finds the operation for a method and a path below one of the contract's servers.

    Like openapi-core, a path without variables wins over a templated one, and fewer
    variables win over more (``/persons/search`` before ``/persons/{id}``).
    """

    def __init__(self, contract: Contract, document: JsonObject) -> None:
        routes: dict[tuple[str, str], _PathRoute] = {}
        for server_url, method, template, operation in iter_operations(document):
            key = (server_url, template)
            if key not in routes:
                # split() alternates literal text and variable names: escape the text,
                # let each variable take one path segment.
                parts = _VARIABLE.split(template)
                regex = "".join(
                    "([^/]+)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
                )
                routes[key] = _PathRoute(server_url, re.compile(regex), tuple(parts[1::2]))
            routes[key].operations[method.upper()] = Operation(
                contract=contract,
                server_url=server_url,
                method=method.upper(),
                path_template=template,
                operation_id=operation["operationId"],
                token_cost=operation.get("x-token-cost"),
                deprecated=bool(operation.get("deprecated", False)),
            )
        self._routes = sorted(routes.values(), key=lambda route: len(route.variables))
        self.operations: tuple[Operation, ...] = tuple(
            operation for route in routes.values() for operation in route.operations.values()
        )

    def _candidates(self, location: Location) -> list[tuple[_PathRoute, re.Match[str]]]:
        return [
            (route, found)
            for route in self._routes
            if route.server_url == location.server_url
            and (found := route.pattern.fullmatch(location.path)) is not None
        ]

    def match(self, method: str, location: Location) -> tuple[Operation, dict[str, str]] | None:
        """The operation for ``method`` at ``location`` and its path variables, URL-decoded."""
        for route, found in self._candidates(location):
            if method.upper() in route.operations:
                values = map(unquote, found.groups())
                return route.operations[method.upper()], dict(
                    zip(route.variables, values, strict=True)
                )
        return None

    def methods_at(self, location: Location) -> tuple[str, ...]:
        """Every method documented for a template that ``location`` matches."""
        return tuple(
            sorted(
                {method for route, _ in self._candidates(location) for method in route.operations}
            )
        )


def locate(url: httpx.URL) -> Location | None:
    """The contract that covers ``url``, the server it is on and the path below it.

    Pipedrive v1 URLs yield ``PIPEDRIVE_V1``; the caller falls back to the January
    snapshot for operations the current v1 contract dropped. None when no contract
    covers the URL (another host, not HTTPS, or an unknown version prefix).
    """
    if url.scheme != "https":
        return None
    path = url.raw_path.decode("ascii").split("?", 1)[0]
    if f"https://{url.host}" == _PIPEDRIVE_OAUTH_SERVER:
        return Location(Contract.PIPEDRIVE_V1, _PIPEDRIVE_OAUTH_SERVER, path)
    if _PIPEDRIVE_HOST.fullmatch(url.host):
        candidates: tuple[Contract, ...] = (Contract.PIPEDRIVE_V2, Contract.PIPEDRIVE_V1)
    elif _MAILCHIMP_HOST.fullmatch(url.host):
        candidates = (Contract.MAILCHIMP,)
    else:
        return None
    for contract in candidates:
        base = contract.base_path
        if path == base or path.startswith(base + "/"):
            return Location(contract, contract.server_url, path[len(base) :] or "/")
    return None
