"""docs/mapping.md: its examples run, and the package's public surface is what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pdmc.mapping

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"


def test_the_docs_examples_run_in_order(capsys) -> None:
    """Every Python block of docs/mapping.md runs, in order, in one namespace."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 6
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/mapping.md block {number}", "exec"), namespace)  # noqa: S102 - the docs' own examples
    printed = capsys.readouterr().out
    assert "mailchimp:COMPANY - required fields are pre-selected and cannot be removed" in printed
    assert printed.rstrip().endswith("True")  # the echo is recognised


def test_the_public_surface_is_sorted_and_importable() -> None:
    """pdmc.mapping's __all__ is sorted, and every name in it exists."""
    assert list(pdmc.mapping.__all__) == sorted(pdmc.mapping.__all__)
    for name in pdmc.mapping.__all__:
        assert getattr(pdmc.mapping, name) is not None, name
