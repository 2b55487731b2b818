"""A sync worker in its own process, for the SIGKILL proofs.

Run as ``python -m tests.flows_safety.crash_worker STORE NOW`` from the repository
root. It runs the flows due in the SQLite store at ``STORE`` once, against an
emulator another process serves over HTTP, with its clock at ``NOW`` (ISO 8601),
and prints one line per flow run. The emulator's URLs and credentials come from the
environment (``PDMC_SAFETY_PIPEDRIVE_URL``, ``PDMC_SAFETY_PIPEDRIVE_TOKEN``,
``PDMC_SAFETY_MAILCHIMP_URL``, ``PDMC_SAFETY_MAILCHIMP_KEY``), never the command line.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from pdmc.clients import MailchimpClient, PipedriveClient, RetryPolicy
from pdmc.emulator import EmulatorClock
from pdmc.flows import SyncEngine
from pdmc.storage import SQLiteStore
from tests.flows_safety.world import MAILCHIMP_AUTH, PIPEDRIVE_AUTH


def main(argv: list[str]) -> int:
    """Run the due flows once; return the process's exit status."""
    store_path, now = argv
    clock = EmulatorClock(datetime.fromisoformat(now))
    retry = RetryPolicy.no_wait()
    pipedrive = PipedriveClient(
        os.environ["PDMC_SAFETY_PIPEDRIVE_TOKEN"],
        base_url=os.environ["PDMC_SAFETY_PIPEDRIVE_URL"],
        retry=retry,
        sleep=clock.sleep,
        clock=clock.monotonic,
    )
    mailchimp = MailchimpClient(
        os.environ["PDMC_SAFETY_MAILCHIMP_KEY"],
        base_url=os.environ["PDMC_SAFETY_MAILCHIMP_URL"],
        retry=retry,
        sleep=clock.sleep,
    )
    engine = SyncEngine(
        pipedrive,
        mailchimp,
        SQLiteStore(store_path, clock=clock),
        clock=clock,
        pipedrive_webhook_auth=PIPEDRIVE_AUTH,
        mailchimp_webhook_auth=MAILCHIMP_AUTH,
    )
    for report in engine.run_due():
        sys.stdout.write(report.summary() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
