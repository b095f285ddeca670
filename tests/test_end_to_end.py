"""The README's main job, end to end, at the default settings (minutes: `pytest -m slow`)."""

import json

import pytest

from rae.cli.main import main


@pytest.mark.slow
def test_one_default_trial_on_mnist_lands_near_the_paper(mnist_dir, tmp_path, capsys):
    out = tmp_path / "quickstart"
    assert main(["reproduce", "--dataset", "mnist", "--trials", "1", "--out", str(out), "--data-dir",
                 str(mnist_dir), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "paper RAE" in printed and "60.946" in printed
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    # Broad bands around the paper's RAE row: a broken metric or model lands far outside.
    assert 40 < metrics["bce"]["mean"] < 70
    assert -135 < metrics["log_likelihood"]["mean"] < -95
    assert 3 < metrics["classification_error"]["mean"] < 20
    assert 10 < metrics["masked_mse"]["mean"] < 70
