"""The analysts' notebooks, executed top to bottom on small parameters (injected after each
notebook's parameters cell, as papermill does): a cell that fails fails the test, and each must
end by printing its key figures. They are committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import DATASETS, dataset

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SMALL = {
    "01_explore_demo_city": "VOLUNTEERS = 2_000\nACTIVITIES = 200\nRECORDS = 5_000",
    "02_factor_diagnostics": "VOLUNTEERS = 3_000\nACTIVITIES = 300\nSHIFTS = 40",
    "03_tune_weights": "VOLUNTEERS = 3_000\nACTIVITIES = 300\nQUERIES = 200\nSTEPS = 5",
    "04_evaluate_scistarter": f"DATASET = {str(DATASETS / 'scistarter')!r}\nRESAMPLES = 100",
    "05_demand_gaps": f"VOLUNTEERS = 3_000\nACTIVITIES = 300\nNEEDS = 20\nDATASETS = {str(DATASETS)!r}",
}
NEEDS_DATA = {"04_evaluate_scistarter": ["scistarter"], "05_demand_gaps": ["nyc_service", "timebanks"]}
PNGS = {"05_demand_gaps": ["demo_fill_rate.png", "demo_gap_map.png", "nyc_views_per_request.png",
                           "timebanks_requests_per_offer.png"]}  # fmt: skip
KEY_FIGURES = {
    "01_explore_demo_city": ["volunteers: 2000", "activities: 200", "largest district:"],
    "02_factor_diagnostics": ["shifts asked: 40", "factor that spreads lists most:"],
    "03_tune_weights": ["default weights NDCG@10:", "learned weights NDCG@10:", "learned weights: {"],
    "04_evaluate_scistarter": ["popularity", "collaborative", "default", "learned", "ndcg_at_10"],
    "05_demand_gaps": [
        "demo demand hours:",
        "Emergency Preparedness: 3.858",
        "Environment: 16.599",
        "TimeBanks most requested per offer: Community Activities",
    ],
}

pytestmark = [
    pytest.mark.slow,
    # jupyter_client and zmq warn about their own internals; the notebooks' code does not.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]


def test_every_notebook_is_listed_here_and_committed_without_outputs() -> None:
    found = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(SMALL)
    for name in found:
        book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert "parameters" in book.cells[0].metadata.get("tags", []), name
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_runs_and_ends_with_its_key_figures(name: str, tmp_path: Path) -> None:
    for needed in NEEDS_DATA.get(name, []):
        dataset(needed)
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    book.cells.insert(1, nbformat.v4.new_code_cell(SMALL[name] + f"\nOUTPUT = {str(tmp_path)!r}"))
    NotebookClient(
        book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    printed = "".join(o.get("text", "") for o in book.cells[-1].outputs if o.output_type == "stream")
    for expected in KEY_FIGURES[name]:
        assert expected in printed, (name, expected, printed)
    images = sum(
        "image/png" in o.get("data", {})
        for cell in book.cells
        if cell.cell_type == "code"
        for o in cell.outputs
    )
    assert images >= 1, f"{name} drew no figure"
    for png in PNGS.get(name, []):  # saved maps and charts a person can open
        saved = tmp_path / png
        assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and saved.stat().st_size > 10_000, png
