"""The official API contracts: where they live and how one is read from disk."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

JsonObject = dict[str, Any]
"""A JSON object as parsed from a contract (the wire boundary, hence ``Any``)."""

SPECS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
"""``<repo>/../shared/specs``: CI lays ``shared/`` beside the checkout; never copied in."""

HTTP_METHODS = ("get", "put", "post", "patch", "delete")
"""The operation keys of a path item that the contracts use."""


class Contract(enum.Enum):
    """One API contract file, with the server URL it declares.

    ``PIPEDRIVE_V1_2026_01_14`` is the last v1 snapshot that still holds the 62 v1
    operations the current v1 contract dropped; it is consulted only for those.
    """

    PIPEDRIVE_V2 = ("pipedrive-v2", "pipedrive-v2.openapi.yaml", "https://api.pipedrive.com/api/v2")
    PIPEDRIVE_V1 = ("pipedrive-v1", "pipedrive-v1.openapi.yaml", "https://api.pipedrive.com/v1")
    PIPEDRIVE_V1_2026_01_14 = (
        "pipedrive-v1-2026-01-14",
        "pipedrive-v1.openapi.2026-01-14.yaml",
        "https://api.pipedrive.com/v1",
    )
    MAILCHIMP = (
        "mailchimp-3.0.81",
        "mailchimp-marketing-3.0.81.fixed.openapi.json",
        "https://server.api.mailchimp.com/3.0",
    )

    def __init__(self, label: str, file_name: str, server_url: str) -> None:
        self.label = label
        self.file_name = file_name
        self.server_url = server_url

    @property
    def base_path(self) -> str:
        """The path prefix of every operation, e.g. ``/api/v2``."""
        return urlsplit(self.server_url).path

    @property
    def is_pipedrive(self) -> bool:
        """Whether this is one of Pipedrive's contracts (which carry ``x-token-cost``)."""
        return self is not Contract.MAILCHIMP

    def __str__(self) -> str:
        return self.label


def read_document(contract: Contract) -> JsonObject:
    """Parse a contract file afresh (callers cache); the result is theirs to change.

    Raises FileNotFoundError naming the expected folder when ``shared/specs`` is not
    beside the checkout, and ValueError when the file declares another server than
    the one this harness routes to it.
    """
    path = SPECS_DIR / contract.file_name
    if not path.is_file():
        raise FileNotFoundError(
            f"API contract {contract.file_name} not found in {SPECS_DIR}: "
            "the contracts are read from ../shared/specs beside the repository"
        )
    with path.open("rb") as stream:
        document: JsonObject = (
            json.load(stream)
            if path.suffix == ".json"
            else yaml.load(stream, Loader=yaml.CSafeLoader)
        )
    declared = [server["url"] for server in document.get("servers", [])]
    if declared != [contract.server_url]:
        raise ValueError(
            f"{contract.file_name} declares servers {declared}, expected {contract.server_url}"
        )
    return document


def iter_operations(document: JsonObject) -> Iterator[tuple[str, str, str, JsonObject]]:
    """Yield ``(server URL, method, path template, operation)`` for every operation.

    The server is the operation's own, else its path's, else the contract's (the
    Pipedrive OAuth endpoints live on ``https://oauth.pipedrive.com``).
    """
    for template, path_item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in path_item:
                operation = path_item[method]
                servers = (
                    operation.get("servers") or path_item.get("servers") or document["servers"]
                )
                yield servers[0]["url"], method, template, operation
