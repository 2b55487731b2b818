"""docs/emulator-pipedrive.md: its examples run and print what the page says, and its
example test module passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "emulator-pipedrive.md"
FENCE = re.compile(r"```python(?P<info>[^\n]*)\n(?P<code>.*?)```", re.DOTALL)
TITLE = re.compile(r'title="(?P<name>[^"]+)"')


def _blocks() -> list[tuple[str | None, str]]:
    return [
        (title["name"] if (title := TITLE.search(m["info"])) else None, m["code"])
        for m in FENCE.finditer(DOCS.read_text(encoding="utf-8"))
    ]


def test_the_examples_run_and_print_what_the_page_says(capsys: pytest.CaptureFixture[str]) -> None:
    """The page's untitled blocks run in order and print what the text promises."""
    namespace: dict[str, object] = {}
    for number, (title, code) in enumerate(_blocks(), start=1):
        if title is None:
            exec(compile(code, f"docs/emulator-pipedrive.md block {number}", "exec"), namespace)  # noqa: S102 - the page's own examples
    assert capsys.readouterr().out.splitlines() == [
        "Aino True",
        "25 tokens",
        "80 2",
        "app ['last_name', 'name', 'update_time']",
    ]


def test_the_example_test_module_passes(tmp_path: Path) -> None:
    """The page's example of a user's own test module passes under pytest."""
    [(name, code)] = [(title, code) for title, code in _blocks() if title is not None]
    (tmp_path / name).write_text(code, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", name, "-q", "-p", "no:cacheprovider", "-W", "error"]
    command += ["-o", "asyncio_default_fixture_loop_scope=function"]
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
