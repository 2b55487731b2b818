"""The refusals the emulated Mailchimp answers with, worded as the real API words them.

Each function returns an :class:`~pdmc.emulator._service.APIProblem`; the service
renders it as ``application/problem+json`` and batch subscribe turns it into a row
error (``error``, ``error_code``, ``field``, ``field_message``).
"""

from __future__ import annotations

from typing import Final

from pdmc.emulator._service import APIProblem

__all__ = [
    "INVALID_RESOURCE",
    "MEMBER_EXISTS",
    "compliance_state",
    "fake_email",
    "forgotten_email",
    "invalid",
    "member_exists",
    "merge_fields_invalid",
    "not_found",
]

INVALID_RESOURCE: Final = "Invalid Resource"
MEMBER_EXISTS: Final = "Member Exists"
_CHECK_ERRORS: Final = (
    "The resource submitted could not be validated. "
    "For field-specific details, see the 'errors' array."
)


def invalid(field: str, message: str, detail: str = _CHECK_ERRORS) -> APIProblem:
    """400 Invalid Resource naming one field."""
    return APIProblem(400, INVALID_RESOURCE, detail, errors=[{"field": field, "message": message}])


def not_found(what: str = "The requested resource could not be found.") -> APIProblem:
    """404 Resource Not Found."""
    return APIProblem(404, "Resource Not Found", what)


def fake_email(email: str) -> APIProblem:
    """400 for an address the emulator's rule refuses (see ``_emails``)."""
    return APIProblem(
        400, INVALID_RESOURCE, f"{email} looks fake or invalid, please enter a real email address."
    )


def forgotten_email(email: str) -> APIProblem:
    """400 for an address that was permanently deleted from the audience."""
    return APIProblem(
        400,
        "Forgotten Email Not Subscribed",
        f"{email} was permanently deleted and cannot be re-imported. "
        "The contact must re-subscribe to get back on the list.",
    )


def compliance_state(email: str) -> APIProblem:
    """400 for subscribing, through the API, a member who unsubscribed or bounced."""
    return APIProblem(
        400,
        "Member In Compliance State",
        f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review "
        "and cannot be subscribed.",
    )


def member_exists(email: str) -> APIProblem:
    """400 for adding (POST) an address already in the audience."""
    return APIProblem(
        400,
        MEMBER_EXISTS,
        f"{email} is already a list member. Use PUT to insert or update list members.",
    )


def merge_fields_invalid(errors: list[dict[str, str]]) -> APIProblem:
    """400 for merge field values the audience refuses, one entry per field."""
    return APIProblem(400, INVALID_RESOURCE, "Your merge fields were invalid.", errors=errors)
