"""Each contract loaded once per process: parsed, patched by the allow-list, ready to use."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider

from ._allowlist import AppliedAllowance, apply_allowances
from ._documents import Contract, JsonObject, read_document
from ._routing import Operation, Router


class _OAuth2BearerProvider(BaseProvider):
    """Accepts an OAuth 2 access token, which travels as ``Authorization: Bearer``.

    openapi-core has no provider for ``oauth2`` schemes (it only warns), yet every
    Pipedrive operation accepts OAuth as the alternative to ``x-api-token``.
    """

    def __call__(self, parameters: RequestParameters) -> bool:
        scheme, _, token = str(parameters.header.get("Authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SecurityProviderError("no OAuth 2 bearer token")
        return True  # the token itself is a secret and must not travel further


class _SecurityProviders(SecurityProviderFactory):
    # openapi-core reads this class-level table through the instance.
    PROVIDERS: dict[str, type[BaseProvider]] = {  # noqa: RUF012 - the base class declares it so
        **SecurityProviderFactory.PROVIDERS,
        "oauth2": _OAuth2BearerProvider,
    }


@dataclass(frozen=True)
class LoadedContract:
    """A parsed contract with its validator, its router and the allowances applied to it."""

    contract: Contract
    document: JsonObject
    openapi: OpenAPI
    router: Router
    allowances: tuple[AppliedAllowance, ...]

    def operation_object(self, operation: Operation) -> JsonObject:
        """The contract's own description of ``operation`` (parameters, bodies, responses)."""
        operation_object: JsonObject = self.document["paths"][operation.path_template][
            operation.method.lower()
        ]
        return operation_object

    def path_item(self, operation: Operation) -> JsonObject:
        """The path item that holds ``operation`` (it may declare shared parameters)."""
        path_item: JsonObject = self.document["paths"][operation.path_template]
        return path_item


def load_contract(contract: Contract, *, with_allowances: bool = True) -> LoadedContract:
    """Read, patch and prepare ``contract``; cached, so each variant loads once per process.

    ``with_allowances=False`` gives the contract exactly as published, which tests use
    to show that an allow-list entry is needed. Raises what ``read_document`` and
    ``apply_allowances`` raise (missing file, unexpected server, stale entry).
    """
    # One positional cache key, however the caller spelled the arguments.
    return _load_contract(contract, with_allowances)


@functools.cache
def _load_contract(contract: Contract, with_allowances: bool) -> LoadedContract:
    document = read_document(contract)
    allowances = apply_allowances(contract, document) if with_allowances else ()
    config = Config(
        # The published contracts are taken as they are; checking them against the
        # OpenAPI meta-schema would cost seconds per load and find nothing we act on.
        spec_validator_cls=None,
        security_provider_factory=_SecurityProviders(),
        # openapi-core reads only application/json as JSON; Mailchimp's errors are
        # RFC 7807 problem documents, JSON under their own media type.
        extra_media_type_deserializers={"application/problem+json": json_loads},
    )
    openapi = OpenAPI.from_dict(document, config=config)
    return LoadedContract(contract, document, openapi, Router(contract, document), allowances)
