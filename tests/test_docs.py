"""The docs must not drift from the code."""

from soe_lib.core.contract import contract_markdown
from soe_lib.core.outputs import outputs_markdown

from .conftest import ROOT


def test_contract_doc_matches_the_contract_in_code():
    doc = (ROOT / "docs" / "data-contract.md").read_text()
    block = doc.split("<!-- contract:begin", 1)[1].split("-->", 1)[1].split("<!-- contract:end -->", 1)[0]
    assert block.strip() == contract_markdown().strip()


def test_outputs_doc_matches_the_output_contract():
    doc = (ROOT / "docs" / "outputs.md").read_text()
    block = doc.split("<!-- outputs:begin -->", 1)[1].split("<!-- outputs:end -->", 1)[0]
    assert block.strip() == outputs_markdown().strip()


def test_readme_quick_start_and_ci_use_the_same_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("help", "setup", "run", "demo", "review", "lab", "test", "bench"):
        assert f"\n{target}:" in makefile, target
