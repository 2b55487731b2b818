"""docs/emulator.md: its examples run, and its example test module passes under pytest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "emulator.md"
FENCE = re.compile(r"```python(?P<info>[^\n]*)\n(?P<code>.*?)```", re.DOTALL)
TITLE = re.compile(r'title="(?P<name>[^"]+)"')


def _blocks() -> list[tuple[str | None, str]]:
    """Each Python block with its file title (``None`` for a block run in sequence)."""
    return [
        (title["name"] if (title := TITLE.search(m["info"])) else None, m["code"])
        for m in FENCE.finditer(DOCS.read_text(encoding="utf-8"))
    ]


def test_the_guide_examples_run_in_order(capsys) -> None:
    """Every untitled Python block of docs/emulator.md runs, in order, in one namespace."""
    blocks = [code for title, code in _blocks() if title is None]
    assert len(blocks) == 9
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/emulator.md block {number}", "exec"), namespace)  # noqa: S102 - the docs' own examples
    printed = capsys.readouterr().out.splitlines()
    assert printed[1:3] == ["True", "True"]  # listings match the seeding summary
    assert "unsubscribed" in printed
    assert "1:00:00" in printed
    assert "2" in printed  # two injected rate limits
    assert "1 request, 10 tokens" in printed
    assert "https://crm-sync.example.org/hooks/pipedrive True" in printed
    assert "200" in printed


def test_the_example_test_module_passes(tmp_path) -> None:
    """The guide's example of a user's own test module passes when pytest runs it."""
    [(name, code)] = [(title, code) for title, code in _blocks() if title is not None]
    (tmp_path / name).write_text(code, encoding="utf-8")
    command = [
        sys.executable, "-m", "pytest", name, "-q", "-p", "no:cacheprovider", "-W", "error",
        "-o", "asyncio_default_fixture_loop_scope=function",
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603 - the interpreter running this suite, no shell
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
