"""benchmarks/run.py: the table and the target verdicts, on made-up figures; the real run is `slow`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.benchmarks.conftest import BENCHMARKS, load_script
from tests.shared_data import SHARED_DATA

run = load_script("run.py")


def backend_result(rae: float, before: float | None = None, peer: float | None = None,
                   fit_loop: float | None = None) -> dict:
    speeds = {"rae": rae, "before": before, "fit-loop": fit_loop, "peer": peer}
    trainers = {name: {"samples_per_s": s, "model_gflops": s * 5.03e-3, "fraction_of_matmul": s * 5.03e-3 / 150}
                for name, s in speeds.items() if s is not None}
    ratios = {}
    if before:
        ratios["rae_over_before"] = rae / before
    if peer:
        ratios["rae_over_peer"] = rae / peer
    if peer and fit_loop:
        ratios["fit_loop_over_peer"] = fit_loop / peer
    return {"trainers": trainers, "ratios": ratios, "matmul_gflops": 150.0}


def test_the_faster_backend_is_the_one_whose_rae_trainer_is_faster():
    throughput = {"tensorflow": backend_result(14_000, 12_000), "jax": backend_result(20_000, 19_000, 21_000)}
    assert run.faster_backend(throughput) == "jax"
    throughput["tensorflow"] = backend_result(25_000, 12_000)
    assert run.faster_backend(throughput) == "tensorflow"


def test_format_report_shows_every_figure_with_its_target_verdict():
    report = {
        "throughput": {"tensorflow": backend_result(15_000, 12_000),
                       "jax": backend_result(20_000, 19_000, 21_000, fit_loop=22_000)},
        "trial": {"backend": "jax", "epochs": 50, "wall_s": 250.0, "train_s": 180.0, "evaluate_s": 70.0,
                  "peak_rss_mib": 3500.0, "metric_s": {"gmm_fit": 35.5, "log_likelihood": 2.25}},
    }
    table = run.format_report(report)
    assert "| jax | rae trainer (defaults) | 20,000 |" in table
    assert "| tensorflow: rae / before #6 | 1.250x | >= 1.2 | met |" in table
    assert "| jax: rae / hand-written JAX step | 0.952x | >= 1.0 | **missed** |" in table
    assert "| jax: rae / before #6 | 1.053x |  |  |" in table  # the 1.2x target is TensorFlow's
    assert "| jax: rae's fit loop alone / hand-written JAX step | 1.048x |  |  |" in table
    assert "| rae on jax / rae on tensorflow (two processes) | 1.333x |" in table
    assert "| wall time | 250.0 s | <= 300 s | met |" in table
    assert "| peak resident memory | 3,500 MiB | <= 3,072 MiB | **missed** |" in table
    assert "| log p(x), 10,000 x 5,000 | 2.25 s | <= 10 s | met |" in table
    assert "| gmm_fit | 35.50 |" in table


def test_a_failing_benchmark_stops_the_run_with_its_last_error_line(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import sys\nprint('details', file=sys.stderr)\nraise SystemExit('broken: no data')\n")
    with pytest.raises(SystemExit, match="broken: no data"):
        run.run_json(str(script), [], {})


@pytest.mark.slow
def test_run_prints_the_table_from_real_subprocesses(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--rounds", "1", "--backends", "jax",
         "--trial-set", "train.epochs=1", "--trial-set", "eval.num_samples=200",
         "--trial-set", "eval.completion_methods=[\"one-pass\"]", "--json-out", str(out)],
        env={**os.environ, "RAE_DATA_DIR": str(SHARED_DATA)}, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr
    assert "| jax: rae / hand-written JAX step |" in done.stdout
    assert "| peak resident memory |" in done.stdout
    assert out.exists()
