"""Every page with Python code is run by some test, so a new page cannot slip through.

:data:`RUNNERS` maps each page (``README.md``, ``docs/**/*.md`` and the notebooks in
``docs/``) to the test module that runs its code. A page with a python block that is
missing from the map fails here, as does an entry for a page that has no code any
more; and each runner must name the page it runs, itself or through a ``tests``
module it imports, so an entry cannot point at a module that never reads the page.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs._pages import DOCS, ROOT

RUNNERS: dict[str, str] = {
    "README.md": "tests/docs/test_readme.py",
    "docs/clients/http-core.md": "tests/clients/test_docs_examples.py",
    "docs/clients/mailchimp.md": "tests/clients/test_docs_examples.py",
    "docs/clients/pipedrive.md": "tests/clients/test_docs_examples.py",
    "docs/concepts.md": "tests/docs/test_flow_pages.py",
    "docs/contracts.md": "tests/docs/test_readme.py",
    "docs/emulator-mailchimp.md": "tests/emulator/mailchimp/test_docs.py",
    "docs/emulator-pipedrive.md": "tests/emulator/pipedrive/test_docs.py",
    "docs/emulator.md": "tests/emulator/test_docs_emulator.py",
    "docs/howto/custom-trigger.md": "tests/docs/test_flow_pages.py",
    "docs/howto/deal-stage.md": "tests/docs/test_flow_pages.py",
    "docs/howto/filters.md": "tests/docs/test_flow_pages.py",
    "docs/howto/new-contact.md": "tests/docs/test_flow_pages.py",
    "docs/howto/schedules.md": "tests/docs/test_flow_pages.py",
    "docs/howto/segments.md": "tests/docs/test_flow_pages.py",
    "docs/howto/webhooks.md": "tests/docs/test_flow_pages.py",
    "docs/mapping.md": "tests/mapping/test_docs.py",
    "docs/notebook.ipynb": "tests/docs/test_notebook.py",
    "docs/storage.md": "tests/storage/test_docs_storage.py",
}
"""Page (from the repository root) -> the test module that runs its code."""

_PYTHON_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*\{?\.?(?:python3?|py|pycon)\b", re.MULTILINE)


def python_blocks(page: Path) -> int:
    """How many blocks of Python the page holds (fences in Markdown, code cells in notebooks)."""
    text = page.read_text(encoding="utf-8")
    if page.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        return sum(1 for cell in cells if cell["cell_type"] == "code" and "".join(cell["source"]))
    return len(_PYTHON_FENCE.findall(text))


def pages_with_python() -> set[str]:
    """Every page of the README and the docs folder that holds Python code."""
    candidates = [ROOT / "README.md", *DOCS.rglob("*.md"), *DOCS.rglob("*.ipynb")]
    return {
        page.relative_to(ROOT).as_posix()
        for page in candidates
        if ".ipynb_checkpoints" not in page.parts and python_blocks(page)
    }


def module_and_imports(module: Path) -> Iterator[ast.Module]:
    """The module's syntax tree, then those of the ``tests`` modules it imports (transitively)."""
    seen: set[Path] = set()
    todo = [module]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        yield tree
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name == "tests" or name.startswith("tests."):
                    base = ROOT.joinpath(*name.split("."))
                    todo.extend(
                        p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()
                    )


def strings_in(module: Path) -> set[str]:
    """Every string literal of the module and of the ``tests`` modules it imports."""
    return {
        node.value
        for tree in module_and_imports(module)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_the_scan_finds_python_blocks_as_the_pages_fence_them() -> None:
    """Fences with and without a title, and notebook code cells, all count as Python code."""
    assert python_blocks(ROOT / "README.md") == 1
    assert python_blocks(DOCS / "howto" / "custom-trigger.md") >= 2  # has titled files
    assert python_blocks(DOCS / "quickstart.md") == 0  # console and JSON only
    assert python_blocks(DOCS / "notebook.ipynb") > 0


def test_every_page_with_python_code_has_a_runner() -> None:
    """A page of the README or docs/ with Python code is in RUNNERS (add it with its test)."""
    missing = sorted(pages_with_python() - set(RUNNERS))
    assert missing == [], f"no test runs the Python code of {missing}; map each in RUNNERS"


def test_every_mapped_page_still_has_python_code() -> None:
    """RUNNERS names no page that is gone or has no Python code left."""
    stale = sorted(set(RUNNERS) - pages_with_python())
    assert stale == [], f"RUNNERS maps pages without Python code: {stale}"


@pytest.mark.parametrize(("page", "runner"), sorted(RUNNERS.items()))
def test_the_runner_is_a_test_module_that_names_its_page(page: str, runner: str) -> None:
    """The mapped runner is a collected test module that names the page it runs."""
    module = ROOT / runner
    assert module.is_file(), runner
    assert module.name.startswith("test_"), f"{runner} is not collected by pytest"
    relative = Path(page).relative_to("docs").as_posix() if page.startswith("docs/") else page
    names = {page, relative, Path(page).name}
    assert names & strings_in(module), f"{runner} never names {page}"
