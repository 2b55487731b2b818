"""Which :class:`~pdmc.errors.MemberError` a Mailchimp refusal is.

Mailchimp states permanent member refusals in the ``title`` and ``detail`` of a
problem document (single calls) or in a row's ``error`` text and ``error_code``
(batch subscribe). Both paths classify through :func:`member_error_class`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pdmc.errors import (
    ComplianceStateError,
    ForgottenEmailError,
    InvalidEmailError,
    InvalidMergeFieldsError,
    MemberError,
    MemberExistsError,
)

__all__ = ["member_error", "member_error_class"]

_BY_TITLE: dict[str, type[MemberError]] = {
    "member in compliance state": ComplianceStateError,
    "forgotten email not subscribed": ForgottenEmailError,
    "member exists": MemberExistsError,
}
_BY_TEXT: tuple[tuple[str, type[MemberError]], ...] = (
    ("compliance state", ComplianceStateError),
    ("permanently deleted", ForgottenEmailError),
    ("forgotten", ForgottenEmailError),
    ("fake or invalid", InvalidEmailError),
    ("valid email", InvalidEmailError),
    ("already a list member", MemberExistsError),
    ("merge field", InvalidMergeFieldsError),
)


def member_error_class(
    title: str | None, text: str | None, *, code: str | None = None, field: str | None = None
) -> type[MemberError] | None:
    """Return the member error a refusal describes, or ``None`` if it is not one.

    Args:
        title: the problem document's title (single calls), if any.
        text: the detail, or a batch row's ``error`` text.
        code: a batch row's ``error_code`` (``ERROR_CONTACT_EXISTS``, ``ERROR_GENERIC``).
        field: the field a batch row's error names, if any (a merge field).
    """
    if title and (known := _BY_TITLE.get(title.strip().lower())):
        return known
    if code == "ERROR_CONTACT_EXISTS":
        return MemberExistsError
    lowered = (text or "").lower()
    for needle, cls in _BY_TEXT:
        if needle in lowered:
            return cls
    if field and field.upper() not in {"EMAIL", "EMAIL_ADDRESS"}:
        return InvalidMergeFieldsError
    return None


def member_error(
    cls: type[MemberError],
    message: str,
    *,
    email: str | None,
    status_code: int = 400,
    method: str = "POST",
    url: str = "",
    body: object = None,
    field_errors: Sequence[tuple[str, str]] = (),
) -> MemberError:
    """Build a member error with its email and merge-field problems attached."""
    error = cls(message, status_code=status_code, method=method, url=url, body=body)
    error.email = email
    if isinstance(error, InvalidMergeFieldsError):
        error.field_errors = tuple(field_errors)
    return error
