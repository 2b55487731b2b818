"""docs/storage.md: its examples run, and its example conformance module passes under pytest.

Blocks fenced ``python`` run; blocks fenced ``py`` show code that needs a server or a
path of the reader's own and are only shown.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pdmc.storage.testing import StateStoreContract

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "storage.md"
FENCE = re.compile(r"```python(?P<info>[^\n]*)\n(?P<code>.*?)```", re.DOTALL)
TITLE = re.compile(r'title="(?P<name>[^"]+)"')


def _blocks():
    return [
        (title["name"] if (title := TITLE.search(m["info"])) else None, m["code"])
        for m in FENCE.finditer(DOCS.read_text(encoding="utf-8"))
    ]


def test_the_examples_run_in_order(capsys):
    """Every untitled Python block of docs/storage.md runs, in order, printing what it says."""
    blocks = [code for title, code in _blocks() if title is None]
    assert len(blocks) == 7
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/storage.md block {number}", "exec"), namespace)  # noqa: S102 - the docs' own examples
        namespace.pop("sqlite_store", None)
    assert capsys.readouterr().out.splitlines() == [
        "paused 2025-01-01 00:00:00+00:00",
        "42",
        "{'persons': {'updated_since': '2025-01-01T00:00:00Z'}}",
        "flow 'leads-to-newsletter' is leased to 'worker-1' until 2025-01-01T00:05:00+00:00",
        "2",
        "{'person:42': False, 'person:43': True}",
        "None",
        "False",
        "worker-1 True",
        "True False",
        "succeeded 1 ['created']",
        "2",
    ]


def test_the_example_conformance_module_passes(tmp_path):
    """The page's example of a user's conformance test module passes when pytest runs it."""
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
    suite = [name for name in dir(StateStoreContract) if name.startswith("test_")]
    assert f"{len(suite)} passed" in result.stdout
