"""Every exception pdmc raises, in one tree.

Catch :class:`PdmcError` to catch everything pdmc raises on purpose. Three marker
classes cut across the tree and say what a sync runner must do with an error:

* :class:`RetryableError`: transient; try the same call again later (the clients
  already retried it as often as their policy allows).
* :class:`RowError`: permanent for one contact; skip the row, report it, keep going.
* :class:`FlowError`: fatal for the flow; stop it and record the reason.

::

    PdmcError
    ├── ConfigurationError                     bad arguments or settings           [flow]
    ├── TransportError                         no HTTP response arrived        [retryable]
    │   ├── ConnectError
    │   └── RequestTimeoutError
    ├── ResponseDecodeError                    a body that is not the JSON promised [retryable]
    ├── ResponseShapeError                     JSON that lacks the documented shape [flow]
    ├── PaginationError                        a page repeated its cursor           [flow]
    ├── APIError                               the service answered with an error
    │   ├── BadRequestError                    400
    │   │   └── MemberError                    a Mailchimp member refused           [row]
    │   │       ├── ComplianceStateError       unsubscribed/cleaned: cannot resubscribe
    │   │       ├── ForgottenEmailError        permanently deleted address
    │   │       ├── InvalidEmailError          fake or invalid address
    │   │       ├── MemberExistsError          already a list member
    │   │       └── InvalidMergeFieldsError    merge fields the audience refuses
    │   ├── AuthenticationError                401                                  [flow]
    │   ├── PermissionDeniedError              403 with an error body               [flow]
    │   ├── ThrottledError                     403 without JSON body, 408      [retryable]
    │   ├── NotFoundError                      404
    │   ├── ConflictError                      409
    │   ├── UnprocessableEntityError           422
    │   ├── RateLimitError                     429                             [retryable]
    │   │   └── QuotaExhaustedError            a wait longer than max_wait advised
    │   └── ServerError                        5xx                             [retryable]
    ├── OAuthError                             a token exchange or refresh failed   [flow]
    ├── WebhookAuthError                       a webhook failed authentication
    ├── WebhookPayloadError                    an authenticated webhook body is malformed
    ├── MappingError                           field mapping and value conversion
    │   ├── FieldMapRuleError                  one broken rule of a FieldMap
    │   ├── InvalidFieldMapError               every FieldMapRuleError at once (ExceptionGroup)
    │   └── ConversionError                    one value that cannot convert        [row]
    ├── StoreError                             the state store failed
    │   ├── LeaseHeldError                     another worker holds the flow's lease
    │   ├── LinkConflictError                  a link's keys belong to two links    [row]
    │   └── SchemaVersionError                 a store written by a newer pdmc      [flow]
    └── SyncError                              the sync engine refused or stopped
        ├── FlowNotFoundError
        └── FlowDeactivatedError               the flow's trigger lost its sources  [flow]

No message, attribute or repr of these exceptions contains a secret: request headers
are never kept, and bodies are kept as the service sent them (services do not echo
credentials).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ComplianceStateError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConversionError",
    "FieldMapRuleError",
    "FlowDeactivatedError",
    "FlowError",
    "FlowNotFoundError",
    "ForgottenEmailError",
    "InvalidEmailError",
    "InvalidFieldMapError",
    "InvalidMergeFieldsError",
    "LeaseHeldError",
    "LinkConflictError",
    "MappingError",
    "MemberError",
    "MemberExistsError",
    "NotFoundError",
    "OAuthError",
    "PaginationError",
    "PdmcError",
    "PermissionDeniedError",
    "QuotaExhaustedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ResponseShapeError",
    "RetryableError",
    "RowError",
    "SchemaVersionError",
    "ServerError",
    "StoreError",
    "SyncError",
    "ThrottledError",
    "TransportError",
    "UnprocessableEntityError",
    "WebhookAuthError",
    "WebhookPayloadError",
]


class PdmcError(Exception):
    """The root of every exception pdmc raises on purpose."""


class RetryableError(PdmcError):
    """Marker: the failure is transient; the same call may succeed later."""


class RowError(PdmcError):
    """Marker: the failure is permanent for one contact; skip it, report it, go on."""


class FlowError(PdmcError):
    """Marker: the failure stops the whole flow until someone fixes its cause."""


class ConfigurationError(FlowError, ValueError):
    """An argument or setting is wrong (a malformed key, a limit above the vendor's)."""


class TransportError(RetryableError):
    """No HTTP response arrived: the connection failed, broke or timed out.

    ``method`` and ``url`` name the request (the URL never holds a credential).
    """

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class ConnectError(TransportError):
    """The connection could not be opened or was reset."""


class RequestTimeoutError(TransportError):
    """The request timed out; the service may or may not have acted on it."""


class ResponseDecodeError(RetryableError):
    """A response that should hold JSON held something else (often a truncated body)."""

    def __init__(self, message: str, *, method: str, url: str, status_code: int) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.status_code = status_code


class ResponseShapeError(FlowError):
    """A response parsed as JSON but does not have the shape the API documents."""

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class PaginationError(FlowError):
    """A paginated listing returned a cursor it had returned before."""


class APIError(PdmcError):
    """The service answered with an error status.

    Attributes:
        status_code: the HTTP status.
        method, url: the request that failed (no credential is ever part of them).
        body: the decoded error body (``dict``), the raw text when it is not JSON,
            or ``None`` when the response had no body.
        request_id: the service's request or trace id, when it sent one.
        title, detail: the vendor's error title and explanation, when present.
        retry_after: the wait in seconds the service advised (``Retry-After`` or a
            rate-limit reset header), when it advised one.
    """

    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        url: str,
        body: Any = None,
        request_id: str | None = None,
        title: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.url = url
        self.body = body
        self.request_id = request_id
        self.title = title
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.args[0]!r}, status_code={self.status_code})"


class BadRequestError(APIError):
    """400: the request was refused as it stands; sending it again will not help."""


class MemberError(BadRequestError, RowError):
    """Mailchimp refused one member permanently; ``email`` names it when known."""

    email: str | None = None


class ComplianceStateError(MemberError):
    """The member is unsubscribed or cleaned and cannot be subscribed through the API."""


class ForgottenEmailError(MemberError):
    """The address was permanently deleted and cannot be re-imported."""


class InvalidEmailError(MemberError):
    """Mailchimp considers the address fake or invalid."""


class MemberExistsError(MemberError):
    """The address is already a member of the audience."""


class InvalidMergeFieldsError(MemberError):
    """One or more merge fields were refused; ``field_errors`` holds them."""

    field_errors: Sequence[tuple[str, str]] = ()


class AuthenticationError(APIError, FlowError):
    """401: the credential is missing, wrong, expired or revoked."""


class PermissionDeniedError(APIError, FlowError):
    """403 with an error body: the account or role lacks access."""


class ThrottledError(APIError, RetryableError):
    """The service shed the request: a 403 without a JSON error body, or a 408."""


class NotFoundError(APIError):
    """404: the resource does not exist (or is not visible to this credential)."""


class ConflictError(APIError):
    """409: the request conflicts with the resource's current state."""


class UnprocessableEntityError(APIError):
    """422: the body was understood but refused."""


class RateLimitError(APIError, RetryableError):
    """429: too many requests; ``retry_after`` holds the service's advice in seconds."""


class QuotaExhaustedError(RateLimitError):
    """429 advising a wait longer than the retry policy's ``max_wait``.

    Pipedrive says so when the company's daily token budget is spent. The client
    neither waits nor retries (a request before the reset would be refused again),
    and a request the pacer already knows to be refused is not sent at all;
    ``retry_after`` holds the seconds until the service takes calls again. The sync
    engine ends the run there, keeps what it recorded, and runs the flow after the reset.
    """


class ServerError(APIError, RetryableError):
    """5xx: the service failed."""


class OAuthError(FlowError):
    """An OAuth code exchange or token refresh failed."""


class WebhookAuthError(PdmcError):
    """A webhook delivery failed authentication and was refused before parsing."""


class WebhookPayloadError(PdmcError, ValueError):
    """An authenticated webhook delivery could not be read as the vendor's format."""


class MappingError(PdmcError):
    """The base of field-mapping and value-conversion errors."""


class FieldMapRuleError(MappingError):
    """One broken rule of a FieldMap; ``field`` names the field and ``reason`` the rule."""

    def __init__(self, message: str, *, field: str, reason: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.add_note(f"field: {field}")
        self.add_note(f"reason: {reason}")


class InvalidFieldMapError(ExceptionGroup[FieldMapRuleError], MappingError, FlowError):
    """A FieldMap broke one or more rules; ``exceptions`` holds every problem at once."""


class ConversionError(MappingError, RowError, ValueError):
    """One value could not be converted; the contact, field and reason are named."""

    def __init__(
        self, message: str, *, field: str, reason: str, contact: str | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.contact = contact


class StoreError(PdmcError):
    """The state store failed or refused an operation."""


class LeaseHeldError(StoreError):
    """Another worker holds the lease; try again after it expires."""


class LinkConflictError(StoreError, RowError):
    """A link's person id, member id or email already belongs to another link.

    ``email`` names the contact whose link was refused and ``field`` the key
    (``person_id``, ``member_id`` or ``email``) that another link holds.
    """

    def __init__(self, message: str, *, email: str, field: str) -> None:
        super().__init__(message)
        self.email = email
        self.field = field


class SchemaVersionError(StoreError, FlowError):
    """The store was written by a newer pdmc whose schema this one cannot read."""


class SyncError(PdmcError):
    """The sync engine refused a request or stopped a run."""


class FlowNotFoundError(SyncError, LookupError):
    """No flow has the given id."""


class FlowDeactivatedError(SyncError, FlowError):
    """The flow deactivated itself; ``reason`` says why."""
