"""docs/notebook.ipynb runs top to bottom in a fresh kernel and shows what it says.

The kernel is this interpreter (the project's virtualenv), registered under a name of
its own in a temporary Jupyter data folder; every Jupyter and IPython folder points
into that temporary place, so the run neither reads nor writes the user's own setup.
"""

from __future__ import annotations

import json
import re
from typing import Any

import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernel_spec
from nbclient import NotebookClient
from traitlets.config import Config

from pdmc.flows import Action
from tests.docs._pages import DOCS

NOTEBOOK = DOCS / "notebook.ipynb"
KERNEL = "pdmc-docs"
WIDGET = "application/vnd.jupyter.widget-view+json"

PROBE = """
import json

members = list(emulator.mailchimp.iter_members(audience_id))
print(json.dumps({
    "created": len(members) - summary.members,
    "tagged": sum(any(t["name"] == flow.tag for t in m["tags"]) for m in members),
    "matching": sum(1 for _ in engine.pipedrive.list_persons(filter_id=everyone)),
}))
"""
"""Run after the notebook, in its kernel: what the emulator's own state says happened."""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The notebook after a run in a fresh kernel, with the probe cell as its last cell."""
    home = tmp_path_factory.mktemp("jupyter")
    with pytest.MonkeyPatch.context() as patch:
        for variable, folder in {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython",
        }.items():
            patch.setenv(variable, str(home / folder))
        patch.setenv("JUPYTER_PATH", str(home / "share" / "jupyter"))
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
        patch.delenv("JUPYTER_CONFIG_PATH", raising=False)
        install_kernel_spec(kernel_name=KERNEL, prefix=str(home))
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
        # Local sockets, not TCP: the kernel then has no reason to warn on stderr.
        (home / "runtime").mkdir()
        sockets = {"transport": "ipc", "ip": str(home / "runtime" / "kernel-ipc")}
        client = NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=300,
            resources={"metadata": {"path": str(home)}},
            config=Config({"KernelManager": sockets}),
        )
        client.execute()
    return notebook


def cell_tagged(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    """The one cell carrying ``tag`` in its metadata."""
    [cell] = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return cell


def html_of(cell: nbformat.NotebookNode) -> str:
    """The HTML the cell's result shows."""
    [shown] = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    return str(shown)


def counts_in(html: str) -> dict[str, int]:
    """The per-action counts of a report's HTML table."""
    return {
        action: int(n) for action, n in re.findall(r"<tr><th>(\w+)</th><td>(\d+)</td></tr>", html)
    }


def probed(notebook: nbformat.NotebookNode) -> dict[str, Any]:
    """What the probe cell read from the emulator after the notebook ran."""
    [printed] = [o["text"] for o in notebook.cells[-1].outputs if o.get("name") == "stdout"]
    facts: dict[str, Any] = json.loads(printed)
    return facts


def test_every_cell_runs_without_an_error_or_a_warning(executed: nbformat.NotebookNode) -> None:
    """No cell of the notebook raises or writes to stderr (a warning, a text progress bar)."""
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        assert all(o["output_type"] != "error" for o in cell.outputs), index
        stderr = [o for o in cell.outputs if o.get("name") == "stderr"]
        assert stderr == [], f"cell {index} wrote to stderr: {stderr}"


def test_the_report_shows_the_members_the_run_created(executed: nbformat.NotebookNode) -> None:
    """The report cell's HTML table counts exactly the members that appeared in Mailchimp."""
    facts = probed(executed)
    counts = counts_in(html_of(cell_tagged(executed, "report")))
    assert facts["created"] > 0
    assert counts["created"] == facts["created"]
    assert counts["created"] + counts["updated"] == facts["tagged"]


def test_the_idle_run_writes_nothing(executed: nbformat.NotebookNode) -> None:
    """The second run's report shows every action, with no member created, updated or failed."""
    counts = counts_in(html_of(cell_tagged(executed, "idle-report")))
    assert set(counts) == {action.value for action in Action}
    assert counts["created"] == counts["updated"] == counts["failed"] == 0


@pytest.mark.parametrize("tag", ["field-map", "preview", "activated"])
def test_the_engine_results_show_as_html(executed: nbformat.NotebookNode, tag: str) -> None:
    """The field map, the preview and the activated flow each show as an HTML table."""
    assert "<table>" in html_of(cell_tagged(executed, tag))


def test_the_run_shows_a_progress_bar_up_to_the_persons_matched(
    executed: nbformat.NotebookNode,
) -> None:
    """The run cell displays a progress widget that ends at the persons the filter matches."""
    cell = cell_tagged(executed, "run")
    [bar] = [o["data"][WIDGET]["model_id"] for o in cell.outputs if WIDGET in o.get("data", {})]
    widgets = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    labels = " ".join(
        str(widgets[child.removeprefix("IPY_MODEL_")]["state"].get("value", ""))
        for child in widgets[bar]["state"]["children"]
    ).replace("\u2007", " ")
    done = re.search(r"(\d+)/\?", labels)
    assert done is not None, labels
    assert int(done[1]) == probed(executed)["matching"] > 0


def test_the_committed_notebook_has_no_outputs() -> None:
    """The notebook in the repository is stored with its outputs cleared and no run counts."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "widgets" not in notebook.metadata


def test_the_notebook_kernel_is_the_one_jupyter_names_python3() -> None:
    """The notebook asks for the standard python3 kernel, so Jupyter opens it anywhere."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
