"""Read the flow pages' code blocks, and make the files they show importable.

The pages follow one convention, which ``test_flow_pages.py`` enforces:

* A block fenced ```` ```python ```` runs, in page order, in one namespace per page.
* A block fenced ```` ```text ```` right after such a block is exactly what that
  block prints.
* A block fenced ```` ```python title="name.py" ```` is a file the reader saves:

  - ``test_*.py``: a test module, identical to ``tests/docs/<name>``, which pytest
    runs like any other test here;
  - a file whose top-level imports name a framework pdmc does not depend on
    (FastAPI, Flask, Django, Celery): compiled but never run; its logic lives in
    functions of the other files, which run;
  - any other file: a module the reader imports by its stem. :data:`PAGE_FILES`
    imports it from the page, so a block (or a test) that says ``import name``
    runs exactly the code the page shows.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Literal

from attrs import frozen

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TESTS = Path(__file__).resolve().parent

PAGES = (
    "concepts.md",
    "howto/segments.md",
    "howto/new-contact.md",
    "howto/filters.md",
    "howto/deal-stage.md",
    "howto/webhooks.md",
    "howto/schedules.md",
    "howto/custom-trigger.md",
)
"""The flow pages, as mkdocs.yml names them."""

FRAMEWORKS = frozenset({"celery", "django", "fastapi", "flask", "starlette"})
"""Top-level packages that mark a file as shown only: pdmc does not depend on them."""

_FENCE = re.compile(
    r"^```(?P<lang>[\w-]+)(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE
)
_TITLE = re.compile(r'title="(?P<title>[^"]+)"')
_BETWEEN_BLOCK_AND_OUTPUT = re.compile(r"\s*")

Kind = Literal["run", "test", "framework", "module"]


@frozen
class Block:
    """One ```` ```python ```` block of a page, with what the page says it prints."""

    page: str
    line: int
    code: str
    title: str | None = None
    output: str | None = None

    @property
    def path(self) -> Path:
        """The page's file."""
        return DOCS / self.page

    @property
    def kind(self) -> Kind:
        """How the convention treats the block."""
        if self.title is None:
            return "run"
        if self.title.startswith("test_"):
            return "test"
        if imported_roots(self.code) & FRAMEWORKS:
            return "framework"
        return "module"

    @property
    def module_name(self) -> str:
        """The name a reader imports the file by (its stem)."""
        assert self.title is not None, "only files have a module name"
        return Path(self.title).stem

    def compiled(self) -> object:
        """The code compiled so that tracebacks name the page and its own line numbers."""
        return compile("\n" * (self.line - 1) + self.code, str(self.path), "exec")


def imported_roots(code: str) -> set[str]:
    """The top-level packages a file imports at module level."""
    roots: set[str] = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def blocks(page: str) -> list[Block]:
    """Every python block of ``page`` in order, each with its expected output, if any."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found: list[Block] = []
    fences = list(_FENCE.finditer(text))
    for index, fence in enumerate(fences):
        if fence["lang"] != "python":
            continue
        title = _TITLE.search(fence["info"])
        after = fences[index + 1] if index + 1 < len(fences) else None
        output = None
        if (
            after is not None
            and after["lang"] == "text"
            and _BETWEEN_BLOCK_AND_OUTPUT.fullmatch(text, fence.end(), after.start())
        ):
            output = after["code"]
        found.append(
            Block(
                page=page,
                line=text.count("\n", 0, fence.start("code")) + 1,
                code=fence["code"],
                title=title["title"] if title else None,
                output=output,
            )
        )
    return found


def every_block(pages: Sequence[str] = PAGES) -> Iterator[Block]:
    """The python blocks of every flow page."""
    for page in pages:
        yield from blocks(page)


class PageFiles(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the pages' module files by their stem, from the page text itself."""

    def __init__(self, pages: Sequence[str] = PAGES) -> None:
        self.files: dict[str, Block] = {}
        for block in every_block(pages):
            if block.kind == "module":
                assert block.module_name not in self.files, f"two pages show {block.title}"
                self.files[block.module_name] = block

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        del path, target
        block = self.files.get(fullname)
        if block is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin=str(block.path))

    def exec_module(self, module: ModuleType) -> None:
        exec(self.files[module.__name__].compiled(), module.__dict__)  # noqa: S102 - the docs' own files

    def install(self) -> None:
        """Put the finder first on ``sys.meta_path`` (once)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Take the finder off ``sys.meta_path`` and forget the modules it loaded."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for name in self.files:
            sys.modules.pop(name, None)


PAGE_FILES = PageFiles()
"""The one finder of the test session (``conftest.py`` installs it)."""
