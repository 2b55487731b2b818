"""Every Mailchimp Marketing operation the clients call (paths under ``/3.0``)."""

from __future__ import annotations

from typing import Final

from pdmc.clients._core import Operation

__all__ = ["OPERATIONS"]

_V: Final = "/3.0"
_LIST: Final = f"{_V}/lists/{{list_id}}"
_MEMBER: Final = f"{_LIST}/members/{{subscriber_hash}}"

OPERATIONS: Final[dict[str, Operation]] = {
    op.id: op
    for op in (
        Operation("getRoot", "GET", f"{_V}/"),
        Operation("getLists", "GET", f"{_V}/lists"),
        Operation("getListsId", "GET", _LIST),
        # Batch subscribe with update_existing repeats to the same end state.
        Operation("postListsId", "POST", _LIST, idempotent=True),
        Operation("getListsIdMembers", "GET", f"{_LIST}/members"),
        Operation("getListsIdMembersId", "GET", _MEMBER),
        Operation("putListsIdMembersId", "PUT", _MEMBER),
        Operation("patchListsIdMembersId", "PATCH", _MEMBER),
        Operation("deleteListsIdMembersId", "DELETE", _MEMBER),
        Operation("getListMemberTags", "GET", f"{_MEMBER}/tags"),
        # Setting a tag active or inactive twice leaves it the same.
        Operation("postListMemberTags", "POST", f"{_MEMBER}/tags", idempotent=True),
        Operation("searchTagsByName", "GET", f"{_LIST}/tag-search"),
        Operation("previewASegment", "GET", f"{_LIST}/segments"),
        Operation("postListsIdSegments", "POST", f"{_LIST}/segments"),
        Operation("getListsIdSegmentsId", "GET", f"{_LIST}/segments/{{segment_id}}"),
        Operation("getListsIdSegmentsIdMembers", "GET", f"{_LIST}/segments/{{segment_id}}/members"),
        # Adding a member already in a static segment, or removing one not in it, is a no-op.
        Operation(
            "postListsIdSegmentsId", "POST", f"{_LIST}/segments/{{segment_id}}", idempotent=True
        ),
        Operation("getListsIdMergeFields", "GET", f"{_LIST}/merge-fields"),
        Operation("postListsIdMergeFields", "POST", f"{_LIST}/merge-fields"),
        Operation("getListsIdWebhooks", "GET", f"{_LIST}/webhooks"),
        Operation("postListsIdWebhooks", "POST", f"{_LIST}/webhooks"),
        Operation("deleteListsIdWebhooksId", "DELETE", f"{_LIST}/webhooks/{{webhook_id}}"),
        Operation("postBatches", "POST", f"{_V}/batches"),
        Operation("getBatchesId", "GET", f"{_V}/batches/{{batch_id}}"),
    )
}
