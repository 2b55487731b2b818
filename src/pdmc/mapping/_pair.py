"""FieldPair: one line of a field map, with the per-pair choices a user can make."""

from __future__ import annotations

from attrs import frozen

__all__ = ["FieldPair"]


@frozen
class FieldPair:
    """A Pipedrive field and a Mailchimp field whose values a flow copies.

    The pair names both fields whatever the flow's direction; the
    :class:`~pdmc.mapping.FieldMap` decides which one is read and which written.

    Attributes:
        pipedrive: the Pipedrive field's key (``field_code``; ``email``, ``phone``).
        mailchimp: the Mailchimp merge tag (``EMAIL`` for the address).
        truncate: cut text longer than the target holds (Mailchimp text: 255 bytes)
            on a character boundary instead of reporting it. Off by default.
        clear_when_empty: when the source is empty, clear the target too. Off by
            default: an empty source leaves the target alone, so no data is lost.
        send_option_labels: opt in, beyond the seed integration, to send a Pipedrive
            option field's labels into a Mailchimp text field. Off by default.
    """

    pipedrive: str
    mailchimp: str
    truncate: bool = False
    clear_when_empty: bool = False
    send_option_labels: bool = False
