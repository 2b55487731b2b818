"""The emulator's own table of token costs against the official contracts."""

from __future__ import annotations

from pdmc.emulator.pipedrive import TOKEN_COSTS, PipedriveEmulator
from tests.contracts import pipedrive_token_costs


def test_every_cost_matches_the_contracts() -> None:
    """Each entry of the emulator's cost table equals the contract's ``x-token-cost``."""
    documented = pipedrive_token_costs()
    mismatched = {
        operation: (cost, documented.get(operation))
        for operation, cost in TOKEN_COSTS.items()
        if documented.get(operation) != cost
    }
    assert mismatched == {}


def test_every_route_has_a_cost_and_every_cost_a_route() -> None:
    """The table prices exactly the operations the emulator answers."""
    routes = {(route.method, route.template) for route in PipedriveEmulator.routes}
    assert routes == set(TOKEN_COSTS)


def test_route_operation_ids_are_the_contracts() -> None:
    """Every route is named by the operationId the contracts give its method and path."""
    from tests.contracts import Contract, load_contract

    documented = {
        (operation.method, operation.url_template): operation.operation_id
        for contract in (Contract.PIPEDRIVE_V2, Contract.PIPEDRIVE_V1)
        for operation in load_contract(contract).router.operations
    }
    named = {
        (route.method, route.template): route.operation_id for route in PipedriveEmulator.routes
    }
    assert {key: documented.get(key) for key in named} == named
