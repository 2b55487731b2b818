"""The flow pages' files become importable here, before any test module is collected.

``test_custom_trigger.py`` says ``from label_trigger import PersonLabelTrigger``, as the
reader's own test would; that module is the page's ``label_trigger.py`` block itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docs._pages import PAGE_FILES
from tests.storage.pg_server import FAST, HOW_TO_ENABLE, PgServer, find_binaries

PAGE_FILES.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave ``sys.meta_path`` and ``sys.modules`` as they were."""
    del config
    PAGE_FILES.uninstall()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throw-away PostgreSQL server for the session, or a skip saying how to get one."""
    bindir = find_binaries()
    if bindir is None:
        pytest.skip(HOW_TO_ENABLE)
    with PgServer(bindir, settings=FAST) as server:
        yield server
