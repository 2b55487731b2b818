"""``/batches``: operations run in the background on the emulator clock.

A batch is ``pending`` for one emulated second, ``preprocessing`` for one more, then
``started`` while its operations run at :data:`OPERATIONS_PER_SECOND` (at least one
second in all), ``finalizing`` for a second, then ``finished``. Operations run when
the clock says they are due (the service catches up on every request); the results
are a ``.tar.gz`` of JSON files, each a list of ``{status_code, operation_id,
response}`` where ``response`` is the operation's body as a JSON string, as Mailchimp
packs them.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import tarfile
from typing import Any, Final

from attrs import define, field

from pdmc.emulator.mailchimp._audience import iso

__all__ = ["OPERATIONS_PER_SECOND", "RESULTS_PER_FILE", "Batch"]

OPERATIONS_PER_SECOND: Final = 50
RESULTS_PER_FILE: Final = 1000
_PENDING: Final = 1.0
_PREPROCESSING: Final = 1.0
_FINALIZING: Final = 1.0


@define(eq=False)
class Batch:
    """A submitted batch: its operations, their results so far, its timeline."""

    id: str
    account_id: str
    operations: list[dict[str, Any]]
    submitted: float
    results: list[dict[str, Any]] = field(factory=list)
    errored: int = 0

    @property
    def _started(self) -> float:
        return self.submitted + _PENDING + _PREPROCESSING

    @property
    def _working(self) -> float:
        return max(1.0, len(self.operations) / OPERATIONS_PER_SECOND)

    @property
    def completed(self) -> float:
        """When the batch finishes."""
        return self._started + self._working + _FINALIZING

    def due(self, now: float) -> int:
        """How many operations should have run by ``now``."""
        if now < self._started:
            return 0
        share = (now - self._started) / self._working
        return min(len(self.operations), math.floor(share * len(self.operations)))

    def status(self, now: float) -> str:
        """``pending``, ``preprocessing``, ``started``, ``finalizing`` or ``finished``."""
        if now < self.submitted + _PENDING:
            return "pending"
        if now < self._started:
            return "preprocessing"
        if now < self._started + self._working:
            return "started"
        return "finalizing" if now < self.completed else "finished"

    def record(self, operation: dict[str, Any], status: int, body: bytes) -> None:
        """Keep the result of one operation."""
        self.results.append(
            {
                "status_code": status,
                "operation_id": operation.get("operation_id"),
                "response": body.decode(),
            }
        )
        if status >= 400:  # noqa: PLR2004 - an HTTP error status
            self.errored += 1

    def wire(self, now: float, base_url: str) -> dict[str, Any]:
        """The batch as ``GET /batches/{id}`` shows it at ``now``."""
        status = self.status(now)
        wire: dict[str, Any] = {
            "id": self.id,
            "status": status,
            "total_operations": len(self.operations),
            "finished_operations": len(self.results),
            "errored_operations": self.errored,
            "submitted_at": iso(self.submitted),
            "response_body_url": "",
        }
        if status == "finished":
            wire["completed_at"] = iso(self.completed)
            wire["response_body_url"] = f"{base_url}/batch-results/{self.id}.tar.gz"
        return wire

    def archive(self) -> bytes:
        """The results as a ``.tar.gz`` (byte-for-byte the same for the same batch)."""
        buffer = io.BytesIO()
        stamp = int(self.completed)
        with (
            gzip.GzipFile(fileobj=buffer, mode="wb", mtime=stamp) as packed,
            tarfile.open(fileobj=packed, mode="w") as tar,
        ):
            for number, start in enumerate(range(0, len(self.results), RESULTS_PER_FILE)):
                chunk = self.results[start : start + RESULTS_PER_FILE]
                data = json.dumps(chunk, separators=(",", ":")).encode()
                entry = tarfile.TarInfo(f"{self.id}/{number}.json")
                entry.size, entry.mtime = len(data), stamp
                tar.addfile(entry, io.BytesIO(data))
        return buffer.getvalue()
