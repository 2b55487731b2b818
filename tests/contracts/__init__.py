"""Contract validation harness: check HTTP traffic against the official API contracts.

The contracts are read from ``../shared/specs`` beside the repository (Pipedrive v2,
Pipedrive v1 with its 2026-01-14 snapshot for removed operations, and the repaired
Mailchimp 3.0.81 contract), once per process, and validated with openapi-core.

Typical use in a test::

    from tests.contracts import validate_exchange

    validate_exchange(request, response).raise_for_errors()

The contracts' known imprecisions are in :data:`KNOWN_IMPRECISIONS`, each with its
evidence; they are patched narrowly in the loaded copy, and nothing else is relaxed.
See ``docs/contracts.md``.
"""

from ._allowlist import (
    EVERY_OPERATION,
    KNOWN_IMPRECISIONS,
    AppliedAllowance,
    KnownImprecision,
    Patch,
    StaleAllowanceError,
)
from ._catalog import (
    NoDocumentedExampleError,
    UnknownOperationError,
    documented_example,
    pipedrive_token_costs,
)
from ._documents import SPECS_DIR, Contract
from ._loading import LoadedContract, load_contract
from ._routing import Operation
from ._validation import (
    ContractViolation,
    ValidationResult,
    operation_for,
    operation_id_for,
    token_cost_for,
    validate_exchange,
    validate_request,
)

__all__ = [
    "AppliedAllowance",
    "Contract",
    "ContractViolation",
    "EVERY_OPERATION",
    "KNOWN_IMPRECISIONS",
    "KnownImprecision",
    "LoadedContract",
    "NoDocumentedExampleError",
    "Operation",
    "Patch",
    "SPECS_DIR",
    "StaleAllowanceError",
    "UnknownOperationError",
    "ValidationResult",
    "documented_example",
    "load_contract",
    "operation_for",
    "operation_id_for",
    "pipedrive_token_costs",
    "token_cost_for",
    "validate_exchange",
    "validate_request",
]
