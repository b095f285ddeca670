"""Reports: every figure embedded, the table beside the paper's, config, versions, notes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from rae.errors import RunDirError
from rae.reporting.report import (
    _cells,
    markdown_table,
    markdown_table_to_html,
    protocol_deviations,
    write_report,
    write_reproduce_report,
)
from tests.reporting.test_figures import make_run, make_summary

DATA_URI = '<img src="data:image/png;base64,'
NOTE = "kmnist training images are not reachable here; not comparable with the paper"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, str, str]:
    run = make_run(tmp_path_factory.mktemp("report") / "run", notes=(NOTE,))
    html_path, md_path = write_report(run)
    assert (html_path, md_path) == (run / "report.html", run / "report.md")
    return run, html_path.read_text(), md_path.read_text()


def test_html_embeds_every_figure_of_the_run(report):
    run, html, _ = report
    figures = sorted((run / "figures").glob("*.png"))
    assert len(figures) == 6
    assert html.count(DATA_URI) == len(figures)
    assert html.count("<figcaption>") == len(figures)


def test_html_is_self_contained(report):
    _, html, _ = report
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html


def test_markdown_links_every_figure_by_relative_path(report):
    run, _, md = report
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == 6
    for link in links:
        assert not Path(link).is_absolute() and (run / link).is_file()


def test_both_reports_hold_the_results_beside_the_paper(report):
    _, html, md = report
    for text in (html, md):
        assert "60.946" in text  # the paper's RAE BCE on MNIST
        assert "71.040" in text  # ours (71.04)
        assert "44.857" in text  # the paper's GNCN-PDH
    assert "<table>" in html and "<td>BCE (nats)</td>" in html


def test_both_reports_hold_config_versions_and_wall_times(report):
    _, html, md = report
    for text in (html, md):
        assert "train.learning_rate" in text and "model.latent_dim" in text
        assert "9.9.9-train" in text and "9.9.9-eval" in text  # environment.json, results.json
        assert "19.6" in text and "26.3" in text  # training, evaluation wall time


def test_notes_are_shown_prominently_near_the_top(report):
    _, html, md = report
    assert f'<div class="note"><strong>Note:</strong> {NOTE}</div>' in html
    assert html.index(NOTE) < html.index("<table>")
    assert f"> **Note:** {NOTE}" in md


def test_protocol_deviations_become_notes(tmp_path):
    run = make_run(tmp_path / "run", config_overrides={"train.epochs": 3})
    results = json.loads((run / "results.json").read_text())
    results["protocol"]["gmm_components"] = 10
    (run / "results.json").write_text(json.dumps(results))
    html = write_report(run)[0].read_text()
    assert "training epochs = 3 (the paper: 50)" in html
    assert "GMM components K = 10 (the paper: 75)" in html


def test_paper_settings_give_no_deviation():
    config = {"train": {"epochs": 50, "batch_size": 200}, "eval": {"gmm_components": 75, "mask": "right-half"}}
    assert protocol_deviations(config, {"gmm_components": 75, "num_samples": 5000, "gmm_covariance": "full"}) == []
    assert len(protocol_deviations(config, {"mask": "bottom-half"})) == 1


def test_missing_results_tell_the_user_to_evaluate(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "results.json").unlink()
    with pytest.raises(RunDirError) as error:
        write_report(run)
    message = str(error.value)
    assert "\n" not in message and f"rae evaluate {run}" in message and "first" in message
    assert not (run / "report.html").exists()


def test_markdown_tables_become_escaped_html_tables():
    table = markdown_table(["a", "b"], [["x < y", "[trial](t/report.html)"], ["`code`", "2"]])
    html = markdown_table_to_html(table)
    assert html.count("<tr>") == 3 and html.count("<th>") == 2
    assert "<td>x &lt; y</td>" in html
    assert '<td><a href="t/report.html">trial</a></td>' in html
    assert "<td><code>code</code></td>" in html


def test_reproduce_report_holds_summary_figure_trials_and_links(tmp_path):
    summary = make_summary(seeds=(0, 1))
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    trial = make_run(tmp_path / "trial-00-seed-0", seed=0)
    (trial / "report.html").write_text("<html></html>")
    make_run(tmp_path / "trial-01-seed-1", seed=1)
    html_path, md_path = write_reproduce_report(tmp_path)
    html, md = html_path.read_text(), md_path.read_text()
    assert html.count(DATA_URI) == 1
    for text in (html, md):
        assert "60.946" in text and "rae (ours), mean ± sd" in text
        assert "trial-00-seed-0/report.html" in text and "trial-01-seed-1/report.html" not in text
        assert f"{summary['metrics']['bce']['values'][1]:.3f}" in text  # per-trial table
        assert "2 trial(s); the paper reports mean ± sd over 10 trials" in text
        assert "train.learning_rate" in text and "9.9.9" in text


def test_trial_table_gives_training_and_evaluation_wall_times(tmp_path):
    summary = make_summary(seeds=(0,))
    summary["wall_time_s"] = [{"train_s": 301.25, "evaluate_s": 27.5}]
    expected = ("301.2", "27.5")
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    make_run(tmp_path / "trial-00-seed-0")
    md = write_reproduce_report(tmp_path)[1].read_text()
    row = next(line for line in md.splitlines() if line.startswith("| 0 | 0 |"))
    assert _cells(row)[-3:-1] == list(expected)


def test_reproduce_report_needs_a_summary(tmp_path):
    with pytest.raises(RunDirError, match="rae reproduce"):
        write_reproduce_report(tmp_path)


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed")
    run = report[0]
    shot = tmp_path / "shot.png"
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,2000",
               (run / "report.html").resolve().as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels[..., :3].var() > 0.001  # more than a blank page
