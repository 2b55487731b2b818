"""Checking HTTP traffic against the contracts: which operation, and what breaks it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.templating.security.exceptions import SecurityNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import (
    DataValidationError,
    HeaderValidationError,
    MissingData,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from ._adapters import HttpxOpenAPIRequest, HttpxOpenAPIResponse
from ._documents import Contract
from ._loading import LoadedContract, load_contract
from ._routing import Location, Operation, locate


@dataclass(frozen=True)
class ValidationResult:
    """What the contracts say about one request, or one request and its response.

    ``errors`` are contract violations (each names where: parameter, body path,
    response status); ``notes`` are facts worth knowing that are not violations
    (a deprecated or removed operation, an undocumented error status left unchecked).
    ``operation`` is None when no documented operation matches the request.
    """

    method: str
    url: str
    operation: Operation | None
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the traffic follows its contract."""
        return not self.errors

    @property
    def operation_id(self) -> str | None:
        """The matched operation's ``operationId``, if any operation matched."""
        return None if self.operation is None else self.operation.operation_id

    def raise_for_errors(self) -> None:
        """Raise ContractViolation (an AssertionError) listing every error, if any."""
        if self.errors:
            raise ContractViolation(self)

    def __str__(self) -> str:
        subject = str(self.operation) if self.operation else f"{self.method} {self.url}"
        verdict = "follows its contract" if self.ok else "breaks its contract"
        lines = [f"{subject} {verdict}"]
        lines += [f"  error: {error}" for error in self.errors]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


class ContractViolation(AssertionError):  # noqa: N818 - reads as the failed assertion it is
    """HTTP traffic that breaks its API contract; ``result`` holds the details."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__(str(result))
        self.result = result


@dataclass(frozen=True)
class _Resolved:
    loaded: LoadedContract
    operation: Operation
    location: Location
    variables: dict[str, str]


def _resolve(request: httpx.Request, *, with_allowances: bool = True) -> _Resolved | str:
    """The operation ``request`` calls, or why none matches."""
    location = locate(request.url)
    if location is None:
        return (
            f"no contract covers {request.method} {request.url.copy_with(query=None)}: "
            "the contracts cover https://api.pipedrive.com (or a company domain) under /api/v2 "
            "and /v1, https://oauth.pipedrive.com/oauth, and https://[dc.]api.mailchimp.com/3.0"
        )
    contracts = [location.contract]
    if location.contract is Contract.PIPEDRIVE_V1:
        contracts.append(Contract.PIPEDRIVE_V1_2026_01_14)
    loaded_contracts = [load_contract(c, with_allowances=with_allowances) for c in contracts]
    for loaded in loaded_contracts:
        found = loaded.router.match(request.method, location)
        if found is not None:
            operation, variables = found
            return _Resolved(loaded, operation, location, variables)
    where = location.contract.base_path + location.path
    methods = sorted({m for loaded in loaded_contracts for m in loaded.router.methods_at(location)})
    if methods:
        return (
            f"{location.contract} documents {where} for {', '.join(methods)}, not {request.method}"
        )
    return f"{location.contract} documents no operation at {request.method} {where}"


def _schema_error_text(error: Exception) -> str:
    """``at data[0].org_id: None is not of type 'integer'`` from a jsonschema error."""
    keys: Iterable[str | int] = getattr(error, "absolute_path", ())
    path = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in keys)
    message = str(getattr(error, "message", error))
    return f"at {path.removeprefix('.')}: {message}" if path else message


def _cause_texts(cause: BaseException | None) -> list[str]:
    if isinstance(cause, InvalidSchemaValue):
        return [_schema_error_text(error) for error in cause.schema_errors]
    if isinstance(cause, CastError):
        return [f"{cause.value!r} is not a valid {cause.type}"]
    if isinstance(cause, MediaTypeNotFound):
        documented = ", ".join(cause.availableMimetypes)
        return [f"content type {cause.mimetype!r} is not documented (documented: {documented})"]
    if isinstance(cause, SecurityNotFound):
        alternatives = " or ".join(" + ".join(names) for names in cause.schemes)
        return [f"no accepted credentials (the operation takes {alternatives})"]
    return [] if cause is None else [str(cause)]


def _describe(error: Exception) -> list[str]:
    """Readable lines for one openapi-core error, naming the part of the traffic at fault."""
    if isinstance(error, MissingRequiredParameter):
        return [f"{error.location} parameter {error.name!r} is required but missing"]
    if isinstance(error, MissingRequiredRequestBody):
        return ["request body is required but missing"]
    if isinstance(error, MissingData):
        return ["response body is documented but missing"]
    if isinstance(error, ResponseNotFound):
        documented = ", ".join(error.availableresponses)
        return [f"response status {error.http_status} is not documented (documented: {documented})"]
    if isinstance(error, ParameterValidationError):
        subject = f"{error.location} parameter {error.name!r}"
    elif isinstance(error, HeaderValidationError):
        subject = f"response header {error.name!r}"
    elif isinstance(error, RequestBodyValidationError):
        subject = "request body"
    elif isinstance(error, DataValidationError):
        subject = "response body"
    elif isinstance(error, SecurityValidationError):
        subject = "request credentials"
    else:
        return [f"{type(error).__name__}: {error}"]
    texts = _cause_texts(error.__cause__) or [str(error)]
    return [
        f"{subject} {text}" if text.startswith("at ") else f"{subject}: {text}" for text in texts
    ]


def _undocumented_query_parameters(resolved: _Resolved, request: httpx.Request) -> list[str]:
    # openapi-core ignores query parameters a contract does not declare; a client that
    # sends one relies on undocumented behaviour (or has a typo), so the harness says so.
    declared: Iterable[dict[str, str]] = (
        *resolved.loaded.path_item(resolved.operation).get("parameters", ()),
        *resolved.loaded.operation_object(resolved.operation).get("parameters", ()),
    )
    documented = {parameter["name"] for parameter in declared if parameter["in"] == "query"}
    return [
        f"query parameter {name!r} is not documented"
        for name in request.url.params
        if name not in documented
    ]


def _notes(operation: Operation) -> list[str]:
    if operation.contract is Contract.PIPEDRIVE_V1_2026_01_14:
        removed = f"{operation.operation_id} was removed from the current v1 contract"
        return [f"{removed}; checked against the 2026-01-14 snapshot"]
    if operation.deprecated:
        return [f"{operation.operation_id} is deprecated in {operation.contract}"]
    return []


def _check(
    request: httpx.Request, response: httpx.Response | None, *, as_published: bool
) -> ValidationResult:
    resolved = _resolve(request, with_allowances=not as_published)
    if isinstance(resolved, str):
        return ValidationResult(request.method, str(request.url), None, errors=(resolved,))
    openapi = resolved.loaded.openapi
    adapted = HttpxOpenAPIRequest(
        request, resolved.operation, resolved.location.path, resolved.variables
    )
    errors = [text for error in openapi.iter_request_errors(adapted) for text in _describe(error)]
    errors += _undocumented_query_parameters(resolved, request)
    notes = _notes(resolved.operation)
    if response is not None:
        for error in openapi.iter_response_errors(adapted, HttpxOpenAPIResponse(response)):
            # Contracts document the answers they promise, rarely every failure (429,
            # 5xx, 401): an undocumented error status is not a violation, but an
            # undocumented success status is.
            if isinstance(error, ResponseNotFound) and response.is_error:
                status = response.status_code
                notes.append(f"status {status} is not documented; its body was not checked")
            else:
                errors += _describe(error)
    return ValidationResult(
        request.method, str(request.url), resolved.operation, tuple(errors), tuple(notes)
    )


def validate_request(request: httpx.Request, *, as_published: bool = False) -> ValidationResult:
    """Check a request (URL, path, query, headers, credentials, body) against its contract.

    The contract is picked from the URL: ``/api/v2/`` on a Pipedrive host is Pipedrive
    v2, ``/v1/`` is Pipedrive v1 (the 2026-01-14 snapshot for operations the current
    v1 dropped), ``/3.0/`` on a Mailchimp host is Mailchimp. Never raises for bad
    traffic: the result lists the errors (call ``raise_for_errors`` to fail a test).
    A streamed async body must be read (``await request.aread()``) beforehand.

    ``as_published=True`` checks against the contract exactly as published, without
    the allow-list (tests use it to show that an entry is needed).
    """
    return _check(request, None, as_published=as_published)


def validate_exchange(
    request: httpx.Request, response: httpx.Response, *, as_published: bool = False
) -> ValidationResult:
    """Check a request and the response it got; errors of both are in one result.

    An error status (4xx, 5xx) that the operation does not document is reported as a
    note and its body is not checked; an undocumented success status is an error.
    ``as_published`` is as for ``validate_request``.
    """
    return _check(request, response, as_published=as_published)


def operation_for(request: httpx.Request) -> Operation | None:
    """The documented operation ``request`` calls, or None if no contract documents it."""
    resolved = _resolve(request)
    return None if isinstance(resolved, str) else resolved.operation


def operation_id_for(request: httpx.Request) -> str | None:
    """The ``operationId`` of the operation ``request`` calls (e.g. ``getPersons``), or None."""
    operation = operation_for(request)
    return None if operation is None else operation.operation_id


def token_cost_for(request: httpx.Request) -> int | None:
    """Pipedrive's ``x-token-cost`` for the operation ``request`` calls.

    None for Mailchimp (no token budget) and for requests no contract documents.
    """
    operation = operation_for(request)
    return None if operation is None else operation.token_cost
