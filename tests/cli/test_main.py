"""Bad input: one line on stderr, a non-zero exit, no traceback, nothing lost."""

import shutil
import subprocess
import sys

import pytest

from rae.cli.main import EXIT_USER_ERROR, main


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    assert code == EXIT_USER_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rae: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--dataset", "cifar10"], ["unknown dataset 'cifar10'", "mnist"]),
        (["--lr", "0"], ["learning_rate must be a positive"]),
        (["--lr", "-1"], ["learning_rate must be a positive"]),
        (["--epochs", "0"], ["epochs must be a positive"]),
        (["--batch-size", "-3"], ["batch_size must be a positive"]),
        (["--set", "model.dropout=2"], ["dropout must be in [0, 1)"]),
        (["--set", "train.nope=1"], ["unknown config key"]),
    ],
)
def test_train_rejects_nonsensical_config(capsys, tmp_path, flags, words):
    code, _, err = run_cli(capsys, "train", "--out", tmp_path / "run", *flags)
    assert_one_line_error(code, err, *words)
    assert not (tmp_path / "run").exists()


def test_missing_data_file_names_the_file(capsys, tmp_path):
    (tmp_path / "data" / "mnist").mkdir(parents=True)
    code, _, err = run_cli(capsys, "train", "--data-dir", tmp_path / "data", "--out", tmp_path / "run")
    assert_one_line_error(code, err, "missing", "-idx", "--data-dir")


def test_corrupt_data_file_fails_its_checksum(capsys, tmp_path, mnist_dir):
    data = tmp_path / "data" / "mnist"
    shutil.copytree(mnist_dir / "mnist", data)
    labels = data / "train-labels-idx1-ubyte.gz"
    labels.chmod(0o644)
    raw = bytearray(labels.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    labels.write_bytes(bytes(raw))
    code, _, err = run_cli(capsys, "train", "--data-dir", tmp_path / "data", "--out", tmp_path / "run",
                           "--epochs", "1")
    assert_one_line_error(code, err, "train-labels-idx1-ubyte.gz")


def test_existing_run_dir_needs_resume_or_overwrite(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("keep")
    code, _, err = run_cli(capsys, "train", "--out", run)
    assert_one_line_error(code, err, "already exists", "--resume", "--overwrite")
    assert (run / "notes.txt").read_text() == "keep"


def test_evaluate_without_a_model_is_a_clear_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "nothing")
    assert_one_line_error(code, err, "does not exist")
    (tmp_path / "run").mkdir()
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "run")
    assert_one_line_error(code, err, "not a rae run directory")


def test_evaluate_with_config_but_no_checkpoint(capsys, tmp_path):
    from rae.config import Config
    from rae.rundir import create_run_dir

    create_run_dir(tmp_path / "run", Config())
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "run")
    assert_one_line_error(code, err, "no trained model", "best.keras")


def test_bad_config_file(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run_cli(capsys, "train", "--config", bad, "--out", tmp_path / "run")
    assert_one_line_error(code, err, "not valid json")


def test_reproduce_rejects_zero_trials(capsys, tmp_path):
    code, _, err = run_cli(capsys, "reproduce", "--trials", "0", "--out", tmp_path / "r")
    assert_one_line_error(code, err, "--trials")


def test_config_command_prints_the_resolved_config(capsys):
    code, out, _ = run_cli(capsys, "config", "--lr", "0.5", "--set", "eval.gmm_subset=18000")
    assert code == 0
    assert '"learning_rate": 0.5' in out and '"gmm_subset": 18000' in out


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "rae", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "train" in result.stdout and "reproduce" in result.stdout


def test_report_of_a_folder_without_results_is_a_clear_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "report", tmp_path)
    assert_one_line_error(code, err, "rae evaluate")


def test_evaluate_then_report_from_the_command_line(capsys, trained_run):
    code, out, _ = run_cli(capsys, "evaluate", trained_run, "--set", "eval.completion_methods=[\"one-pass\"]")
    assert code == 0 and "paper RAE" in out and "report.html" in out
    assert (trained_run / "report.html").is_file() and (trained_run / "figures").is_dir()
    code, out, _ = run_cli(capsys, "report", trained_run)
    assert code == 0 and str(trained_run / "report.html") in out


def test_resume_refuses_config_changes(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "--out", tmp_path / "run", "--resume", "--epochs", "3", "--seed", "0")
    assert_one_line_error(code, err, "--resume", "--epochs", "--seed")
