"""Facts read straight from the contracts: documented examples and token costs."""

from __future__ import annotations

import copy
from typing import Any

from ._documents import Contract, JsonObject
from ._loading import LoadedContract, load_contract
from ._routing import Operation

_CURRENT_CONTRACTS = (Contract.PIPEDRIVE_V2, Contract.PIPEDRIVE_V1, Contract.MAILCHIMP)


class UnknownOperationError(LookupError):
    """No contract (or more than one) documents an operationId."""


class NoDocumentedExampleError(LookupError):
    """The contract documents no example for that operation and status."""


def _find_operation(
    operation_id: str, contract: Contract | None
) -> tuple[LoadedContract, Operation]:
    # The January v1 snapshot is searched only when no current contract has the id,
    # so its removed operations stay reachable without shadowing their successors.
    searches = (
        [(contract,)]
        if contract is not None
        else [_CURRENT_CONTRACTS, (Contract.PIPEDRIVE_V1_2026_01_14,)]
    )
    for contracts in searches:
        found = [
            (loaded, operation)
            for loaded in map(load_contract, contracts)
            for operation in loaded.router.operations
            if operation.operation_id == operation_id
        ]
        if len(found) > 1:
            names = ", ".join(str(loaded.contract) for loaded, _ in found)
            raise UnknownOperationError(f"{operation_id} is in {names}: pass contract=Contract...")
        if found:
            return found[0]
    raise UnknownOperationError(f"no contract documents an operation {operation_id!r}")


def _resolve_ref(document: JsonObject, node: JsonObject) -> JsonObject:
    while "$ref" in node:
        target: Any = document
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def documented_example(
    operation_id: str, status: str = "200", *, contract: Contract | None = None
) -> Any:
    """The example body the contract documents for an operation's response (a fresh copy).

    Looks at the JSON media type's ``example``, then the first of its ``examples``,
    then the response schema's own ``example``. ``contract`` is needed only when the
    operationId exists in more than one current contract (e.g. ``getPersonFields``).

    Raises UnknownOperationError for an unknown or ambiguous operationId and
    NoDocumentedExampleError when the status or an example is not documented (the
    Mailchimp contract, for one, has property-level examples only).
    """
    loaded, operation = _find_operation(operation_id, contract)
    responses: JsonObject = loaded.operation_object(operation)["responses"]
    if status not in responses:
        raise NoDocumentedExampleError(
            f"{operation} documents no {status} response (documented: {', '.join(responses)})"
        )
    media: JsonObject = responses[status].get("content", {}).get("application/json", {})
    if "example" in media:
        return copy.deepcopy(media["example"])
    if media.get("examples"):
        first = _resolve_ref(loaded.document, next(iter(media["examples"].values())))
        return copy.deepcopy(first["value"])
    schema = _resolve_ref(loaded.document, media.get("schema", {}))
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    raise NoDocumentedExampleError(
        f"{operation} documents no example for its {status} JSON response "
        "(neither the media type nor its schema has one)"
    )


def pipedrive_token_costs() -> dict[tuple[str, str], int]:
    """Pipedrive's ``x-token-cost`` for every documented operation, v2 and v1.

    Keys are ``(METHOD, URL path template)``, e.g. ``("GET", "/api/v2/persons")`` or
    ``("PUT", "/v1/persons/{id}")``; templates are spelled as in the contracts. v1
    operations come from the current v1 contract, plus those it dropped from the
    2026-01-14 snapshot.
    """
    costs: dict[tuple[str, str], int] = {}
    for contract in (
        Contract.PIPEDRIVE_V2,
        Contract.PIPEDRIVE_V1,
        Contract.PIPEDRIVE_V1_2026_01_14,
    ):
        for operation in load_contract(contract).router.operations:
            if operation.token_cost is not None:
                costs.setdefault((operation.method, operation.url_template), operation.token_cost)
    return costs
