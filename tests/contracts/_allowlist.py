"""The contracts' known imprecisions: one documented allow-list, applied narrowly.

Each entry names the contract, the operations and the schema location, says what is
wrong with the contract and why we believe so, and patches exactly the nodes it
names in the harness's loaded copy of the contract (the files are never changed).
Everything else is validated as the contract says. An entry that no longer finds
its nodes (the contract changed) stops the loading, so the list cannot rot silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._documents import Contract, JsonObject, iter_operations

EVERY_OPERATION = ("*",)
"""``operations`` value of an entry that applies wherever its location exists."""

PIPEDRIVE_V1_TIMESTAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
"""The ``YYYY-MM-DD HH:MM:SS`` (UTC, no zone) form of Pipedrive v1 timestamps."""


class Patch(NamedTuple):
    """One node of the loaded contract that an allow-list entry changed."""

    operation_id: str
    pointer: str
    """RFC 6901 JSON pointer of the changed node in the contract document."""


Applier = Callable[[JsonObject], list[Patch]]


@dataclass(frozen=True)
class KnownImprecision:
    """One known imprecision of an official contract, with its evidence and treatment."""

    contract: Contract
    operations: tuple[str, ...]
    """operationIds the entry covers; ``EVERY_OPERATION`` where its location exists."""
    location: str
    imprecision: str
    evidence: str
    treatment: str
    apply: Applier = field(repr=False, compare=False)


@dataclass(frozen=True)
class AppliedAllowance:
    """An allow-list entry and the exact nodes it changed in a loaded contract."""

    entry: KnownImprecision
    patches: tuple[Patch, ...]


class StaleAllowanceError(ValueError):
    """An allow-list entry no longer matches the contract it describes."""


def _pointer(keys: Sequence[str | int]) -> str:
    return "".join("/" + str(key).replace("~", "~0").replace("/", "~1") for key in keys)


def _success_responses(
    document: JsonObject, operations: tuple[str, ...]
) -> Iterator[tuple[str, list[str | int], JsonObject]]:
    """Yield ``(operationId, keys, response)`` for each 2xx response of ``operations``."""
    for _, method, template, operation in iter_operations(document):
        if operations != EVERY_OPERATION and operation["operationId"] not in operations:
            continue
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                keys: list[str | int] = ["paths", template, method, "responses", status]
                yield operation["operationId"], keys, response


def _find_properties(
    schema: JsonObject, keys: list[str | int], names: Sequence[str]
) -> Iterator[tuple[list[str | int], JsonObject]]:
    """Follow a property path through a schema; array items and ``allOf`` are see-through."""
    if not names:
        yield keys, schema
        return
    for index, member in enumerate(schema.get("allOf", ())):
        yield from _find_properties(member, [*keys, "allOf", index], names)
    if "items" in schema:
        yield from _find_properties(schema["items"], [*keys, "items"], names)
    if names[0] in schema.get("properties", {}):
        child = schema["properties"][names[0]]
        yield from _find_properties(child, [*keys, "properties", names[0]], names[1:])


def _patch_response_properties(
    operations: tuple[str, ...], paths: Sequence[str], change: Callable[[JsonObject], bool]
) -> Applier:
    """An applier that runs ``change`` on each JSON response-body node at ``paths``.

    ``paths`` are dotted property paths (``data.org_id``); ``change`` returns whether
    it changed the node, so already-correct nodes are not recorded as patched.
    """

    def apply(document: JsonObject) -> list[Patch]:
        patches = []
        for operation_id, keys, response in _success_responses(document, operations):
            media = response.get("content", {}).get("application/json", {})
            if "schema" not in media:
                continue
            schema_keys = [*keys, "content", "application/json", "schema"]
            for dotted in paths:
                for node_keys, node in _find_properties(
                    media["schema"], schema_keys, dotted.split(".")
                ):
                    if change(node):
                        patches.append(Patch(operation_id, _pointer(node_keys)))
        return patches

    return apply


def _make_nullable(node: JsonObject) -> bool:
    if node.get("nullable") is True:
        return False
    node["nullable"] = True
    return True


def _v1_timestamp_instead_of_date_time(node: JsonObject) -> bool:
    if node.get("format") != "date-time":
        return False
    del node["format"]
    node["pattern"] = PIPEDRIVE_V1_TIMESTAMP
    return True


def _drop_problem_json_from_success(document: JsonObject) -> list[Patch]:
    patches = []
    for operation_id, keys, response in _success_responses(document, EVERY_OPERATION):
        if response.get("content", {}).pop("application/problem+json", None) is not None:
            patches.append(
                Patch(operation_id, _pointer([*keys, "content", "application/problem+json"]))
            )
    return patches


def _accept_bearer_token(document: JsonObject) -> list[Patch]:
    schemes: dict[str, Any] = document["components"]["securitySchemes"]
    schemes["bearerToken"] = {"type": "http", "scheme": "bearer"}
    document["security"].append({"bearerToken": []})
    return [
        Patch("*", _pointer(["components", "securitySchemes", "bearerToken"])),
        Patch("*", _pointer(["security", len(document["security"]) - 1])),
    ]


def _resolve_reference(document: JsonObject, reference: str) -> Any:
    """The node a local ``$ref`` (``#/components/schemas/Name``) points to."""
    node: Any = document
    for escaped in reference.removeprefix("#/").split("/"):
        node = node[escaped.replace("~1", "/").replace("~0", "~")]
    return node


def _refers_to(document: JsonObject, node: Any, reference: str, followed: set[str]) -> bool:
    """Whether ``node`` uses the schema at ``reference``, directly or through other ``$ref``s."""
    if isinstance(node, list):
        return any(_refers_to(document, item, reference, followed) for item in node)
    if not isinstance(node, dict):
        return False
    target = node.get("$ref")
    if target is None:
        return any(_refers_to(document, value, reference, followed) for value in node.values())
    if target == reference:
        return True
    if target in followed:
        return False
    followed.add(target)
    return _refers_to(document, _resolve_reference(document, target), reference, followed)


def _patch_component_properties(
    component: str,
    operations: tuple[str, ...],
    paths: Sequence[str],
    change: Callable[[JsonObject], bool],
) -> Applier:
    """An applier that runs ``change`` on the nodes at ``paths`` of one component schema.

    A component is shared by every operation that uses it, so each changed node is
    recorded once per listed operation that still uses the component; a listed
    operation that no longer does leaves the entry stale.
    """

    def apply(document: JsonObject) -> list[Patch]:
        schemas: JsonObject = document["components"]["schemas"]
        if component not in schemas:
            return []
        keys: list[str | int] = ["components", "schemas", component]
        changed = [
            _pointer(node_keys)
            for dotted in paths
            for node_keys, node in _find_properties(schemas[component], keys, dotted.split("."))
            if change(node)
        ]
        reference = "#/components/schemas/" + component
        users = [
            operation["operationId"]
            for *_, operation in iter_operations(document)
            if operation["operationId"] in operations
            and _refers_to(document, operation, reference, set())
        ]
        return [Patch(user, pointer) for user in users for pointer in changed]

    return apply


def _admit_archived(node: JsonObject) -> bool:
    enum = node.get("enum")
    if enum is None or "archived" in enum:
        return False
    enum.append("archived")
    return True


def _conditions_as_objects(node: JsonObject) -> bool:
    """Unwrap ``conditions`` typed as an array of arrays into an array of condition objects."""
    inner = node.get("items", {})
    if inner.get("type") != "array":
        return False
    node["items"] = inner["items"]
    return True


def _empty_204_without_content(document: JsonObject) -> list[Patch]:
    patches = []
    for operation_id, keys, response in _success_responses(document, EVERY_OPERATION):
        if keys[-1] != "204" or response.get("content") != {}:
            continue
        # openapi-core reads any `content`, even an empty map, as "a body is required",
        # and checks no body at all where `content` is absent: the header keeps a 204
        # that carries a body refused.
        del response["content"]
        response.setdefault("headers", {})["Content-Length"] = {
            "description": "An empty response carries no body: Content-Length, if sent, is 0.",
            "schema": {"type": "integer", "maximum": 0},
        }
        patches += [
            Patch(operation_id, _pointer([*keys, "content"])),
            Patch(operation_id, _pointer([*keys, "headers", "Content-Length"])),
        ]
    return patches


_PIPEDRIVE_V1_FIELD_TIMESTAMP_OPERATIONS = (
    "addActivityType",
    "addChannel",
    "addDealField",
    "addOrganizationField",
    "addOrganizationFollower",
    "addPersonField",
    "deleteActivityType",
    "getActivityFields",
    "getActivityTypes",
    "getDealField",
    "getDealFields",
    "getLeadFields",
    "getOrganizationField",
    "getOrganizationFields",
    "getOrganizationFollowers",
    "getPersonField",
    "getPersonFields",
    "updateActivityType",
    "updateDealField",
    "updateOrganizationField",
    "updatePersonField",
)

_MAILCHIMP_MEMBER_RESPONSE_OPERATIONS = (
    "getListsIdMembers",
    "getListsIdMembersId",
    "getSearchMembers",
    "patchListsIdMembersId",
    "postListsId",
    "postListsIdMembers",
    "postListsIdSegmentsId",
    "putListsIdMembersId",
)
"""The Mailchimp operations whose responses hold ``List_Members`` objects."""

KNOWN_IMPRECISIONS: tuple[KnownImprecision, ...] = (
    KnownImprecision(
        contract=Contract.PIPEDRIVE_V2,
        operations=EVERY_OPERATION,
        location="2xx JSON response body: additional_data.next_cursor (cursor-paginated lists)",
        imprecision=(
            "declared `type: string` without `nullable`, but the last page says `next_cursor: null`"
        ),
        evidence=(
            "SOURCES.md: 'v2 list responses end with `additional_data.next_cursor: null` while the "
            "schema declares a non-nullable string'; the node's own description: 'The value of the "
            "`next_cursor` field will be `null` if you have reached the end of the dataset'."
        ),
        treatment="`nullable: true` on exactly those nodes; a cursor of another type still fails",
        apply=_patch_response_properties(
            EVERY_OPERATION, ["additional_data.next_cursor"], _make_nullable
        ),
    ),
    KnownImprecision(
        contract=Contract.PIPEDRIVE_V2,
        operations=("addPerson", "getPerson", "getPersons", "updatePerson"),
        location="2xx JSON response body: data.org_id and data.picture_id (data[] for getPersons)",
        imprecision=(
            "declared non-nullable integers, but a person without organisation or picture has null"
        ),
        evidence=(
            "SOURCES.md: '`org_id` and `picture_id` of a person are `null` when unset while the "
            "schema declares non-nullable integers'."
        ),
        treatment="`nullable: true` on those response nodes only; request bodies are untouched",
        apply=_patch_response_properties(
            ("addPerson", "getPerson", "getPersons", "updatePerson"),
            ["data.org_id", "data.picture_id"],
            _make_nullable,
        ),
    ),
    KnownImprecision(
        contract=Contract.PIPEDRIVE_V1,
        operations=_PIPEDRIVE_V1_FIELD_TIMESTAMP_OPERATIONS,
        location="2xx JSON response body: data.add_time, data.update_time, data.created_at",
        imprecision=(
            "declared `format: date-time` (RFC 3339), but v1 sends `YYYY-MM-DD HH:MM:SS` there"
        ),
        evidence=(
            "the contract's own documented example for each listed operation violates "
            "`format: date-time` (e.g. getPersonFields: add_time '2019-02-04 13:58:03')."
        ),
        treatment=(
            "on exactly those nodes, `format: date-time` becomes `pattern: "
            f"{PIPEDRIVE_V1_TIMESTAMP}`; other strings still fail"
        ),
        apply=_patch_response_properties(
            _PIPEDRIVE_V1_FIELD_TIMESTAMP_OPERATIONS,
            ["data.add_time", "data.update_time", "data.created_at"],
            _v1_timestamp_instead_of_date_time,
        ),
    ),
    KnownImprecision(
        contract=Contract.MAILCHIMP,
        operations=EVERY_OPERATION,
        location="every 2xx response: the `application/problem+json` media type",
        imprecision=(
            "a leftover of Swagger 2.0 `produces`: success responses list "
            "`application/problem+json` with the success schema, though Mailchimp sends problem "
            "documents only for errors"
        ),
        evidence=(
            "SOURCES.md: 'Every 200 response still lists `application/problem+json` beside "
            "`application/json` with the success schema (a leftover of Swagger 2.0 `produces`); "
            "errors are the `default` response, `Problem_Detail_Document`'."
        ),
        treatment=(
            "harmless for real traffic; the media type is dropped from 2xx responses so a success "
            "status with a problem document is refused instead of passing"
        ),
        apply=_drop_problem_json_from_success,
    ),
    KnownImprecision(
        contract=Contract.MAILCHIMP,
        operations=EVERY_OPERATION,
        location="security: only `basicAuth` is declared",
        imprecision="Mailchimp also takes the API key or OAuth token as `Authorization: Bearer`",
        evidence=(
            "API-FACTS.md 2.1 [MC-docs]: 'API keys and OAuth tokens are sent the same way: Basic "
            "(`anystring:TOKEN`) or `Authorization: Bearer TOKEN`'; SOURCES.md: Mailchimp's "
            "current docs and Fern spec declare `bearerToken`."
        ),
        treatment=(
            "an HTTP bearer scheme is added as a second alternative; a request with neither "
            "Basic nor Bearer credentials still fails"
        ),
        apply=_accept_bearer_token,
    ),
    KnownImprecision(
        contract=Contract.MAILCHIMP,
        operations=_MAILCHIMP_MEMBER_RESPONSE_OPERATIONS,
        location="response schema `List_Members` (the member object): status",
        imprecision=(
            "the `status` enum lacks `archived`, the status of every member DELETE has archived"
        ),
        evidence=(
            "the same contract lists `archived` among getListsIdMembers' `status` query filter "
            "values; API-FACTS.md 2.4: '`archived` results from DELETE and can be used as a list "
            "filter'."
        ),
        treatment=(
            "`archived` is added to that one enum, which only responses use; other values still "
            "fail, and request bodies still refuse `archived` (it cannot be written)"
        ),
        apply=_patch_component_properties(
            "List_Members", _MAILCHIMP_MEMBER_RESPONSE_OPERATIONS, ["status"], _admit_archived
        ),
    ),
    KnownImprecision(
        contract=Contract.MAILCHIMP,
        operations=EVERY_OPERATION,
        location='every 204 response declared `content: {}` ("Empty Response")',
        imprecision=(
            "openapi-core reads any `content`, even an empty map, as a required body, so the "
            "empty 204 Mailchimp sends is reported as 'response body is documented but missing'"
        ),
        evidence=(
            "each of these responses is described as 'Empty Response' and declares no media type; "
            "API-FACTS.md 2.7: postListMemberTags 'Returns 204'."
        ),
        treatment=(
            "on exactly those responses, `content: {}` is removed and a `Content-Length` header "
            "of at most 0 is declared, so a 204 that carries a body still fails; other statuses "
            "(a 200 without a body, even where it declares `content: {}`) are untouched"
        ),
        apply=_empty_204_without_content,
    ),
    KnownImprecision(
        contract=Contract.MAILCHIMP,
        operations=("patchListsIdSegmentsId",),
        location="request schema `Conditions_2` (patchListsIdSegmentsId body): options.conditions",
        imprecision=(
            "a conversion artefact: each `conditions[]` item is typed as an array of conditions "
            "instead of a condition object"
        ),
        evidence=(
            "postListsIdSegments' `Conditions_1` and every segment response's `Conditions` take "
            "condition objects there, and `Conditions_2`'s inner items are exactly those objects."
        ),
        treatment=(
            "the extra array level is removed on that one node, so each item is a condition "
            "object as in `Conditions_1`; a condition that is not an object still fails"
        ),
        apply=_patch_component_properties(
            "Conditions_2", ("patchListsIdSegmentsId",), ["conditions"], _conditions_as_objects
        ),
    ),
)


def apply_allowances(contract: Contract, document: JsonObject) -> tuple[AppliedAllowance, ...]:
    """Patch ``document`` (the harness's private copy) with the entries for ``contract``.

    Raises StaleAllowanceError when an entry finds none of its nodes, or misses one of
    the operations it names: the contract changed and the entry needs review.
    """
    applied = []
    for entry in KNOWN_IMPRECISIONS:
        if entry.contract is not contract:
            continue
        patches = tuple(entry.apply(document))
        missed = set(entry.operations) - {patch.operation_id for patch in patches} - {"*"}
        if not patches or missed:
            raise StaleAllowanceError(
                f"allow-list entry for {contract} at {entry.location!r} no longer matches "
                f"(operations without a patched node: {sorted(missed) or 'all'}): review it"
            )
        applied.append(AppliedAllowance(entry, patches))
    return tuple(applied)
