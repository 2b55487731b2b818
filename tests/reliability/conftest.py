"""The reliability suite's session report: scenarios, faults injected, contacts checked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.reliability.ledger import LEDGER


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the ledger's totals; write the whole ledger where ``PDMC_RELIABILITY_JSON`` says."""
    if not LEDGER.entries:
        return
    totals = LEDGER.totals()
    terminalreporter.write_line(
        "reliability: {scenarios} scenarios, {faults_injected} faults injected, "
        "{contacts_checked} contacts checked".format(**totals)
    )
    target = os.environ.get("PDMC_RELIABILITY_JSON")
    if target:
        Path(target).write_text(json.dumps(LEDGER.as_json(), indent=2) + "\n", encoding="utf-8")
