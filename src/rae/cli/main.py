"""`rae train | evaluate | reproduce | report | config`: argument parsing and error reporting only.

A `RaeError` (bad input) becomes one line on stderr and exit code 2; the work
itself lives in library functions (`rae.training.train`, `rae.experiment`, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

# TensorFlow's C++ start-up chatter would bury the one-line errors and tables.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from rae.config import Config, parse_override, read_config_file  # noqa: E402
from rae.errors import RaeError  # noqa: E402

EXIT_USER_ERROR = 2
# Each shortcut flag and the config field it sets (any other field: --set).
CONFIG_FLAGS = {
    "--dataset": "data.dataset",
    "--data-dir": "data.data_dir",
    "--epochs": "train.epochs",
    "--batch-size": "train.batch_size",
    "--lr": "train.learning_rate",
    "--seed": "seed",
}


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config (later sources override earlier: defaults, --config, flags, --set)")
    group.add_argument("--config", type=Path, help="a TOML or JSON config file (see `rae config`)")
    group.add_argument("--dataset", help="mnist, fashion-mnist, kmnist or caltech101-silhouettes")
    group.add_argument("--data-dir", help="offline data folder laid out as <dir>/<dataset>/<file> "
                       "(default: $RAE_DATA_DIR, else download into the cache)")
    group.add_argument("--epochs", type=int)
    group.add_argument("--batch-size", type=int)
    group.add_argument("--lr", type=float, help="initial learning rate")
    group.add_argument("--seed", type=int)
    group.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override any config field, e.g. --set model.decoder_l2=0.001 (repeatable)")


def _given_config_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The config flags set on the command line, by flag name."""
    flags = ("--config", *CONFIG_FLAGS, "--set")
    values = {flag: getattr(args, flag.lstrip("-").replace("-", "_")) for flag in flags}
    return {flag: value for flag, value in values.items() if value is not None and value != []}


def resolve_config(args: argparse.Namespace) -> Config:
    config = Config.from_dict(read_config_file(args.config)) if args.config else Config()
    given = _given_config_flags(args)
    overrides = {CONFIG_FLAGS[flag]: value for flag, value in given.items() if flag in CONFIG_FLAGS}
    overrides.update(parse_override(item) for item in args.set)
    config = config.replace(**overrides)
    from rae.data import get_spec  # deferred: importing data pulls in numpy/scipy

    get_spec(config.data.dataset)  # an unknown dataset fails here, before any work
    return config


def _cmd_train(args: argparse.Namespace) -> int:
    if args.resume and args.overwrite:
        raise RaeError("--resume and --overwrite exclude each other")
    if args.resume and (given := _given_config_flags(args)):
        raise RaeError(f"--resume continues with the run's saved config.json; drop {', '.join(given)}")
    config = None if args.resume else resolve_config(args)
    from rae.training import train

    result = train(config, args.out, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet)
    print(f"trained {result.epochs_completed} epochs; best validation BCE {result.best_val_bce:.3f} nats "
          f"at epoch {result.best_epoch}; run directory: {result.run.path}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from rae.evaluation.evaluate import evaluate_run
    from rae.reporting.tables import results_markdown
    from rae.rundir import open_run_dir

    config = open_run_dir(args.run_dir).load_config()
    overrides = dict(parse_override(item) for item in args.set)
    not_eval = [key for key in overrides if not key.startswith("eval.")]
    if not_eval:
        raise RaeError(f"evaluate takes only eval.* overrides, got {not_eval[0]!r}")
    eval_config = config.replace(**overrides).eval
    results = evaluate_run(args.run_dir, eval_config=eval_config, baselines=args.baseline, verbose=not args.quiet)
    print(results_markdown(results))
    _cmd_report(args)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from rae.reporting.report import write_report, write_reproduce_report

    folder = Path(args.run_dir)
    is_reproduce = (folder / "summary.json").exists()
    html, _ = write_reproduce_report(folder) if is_reproduce else write_report(folder)
    print(f"report: {html}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    if args.trials < 1:
        raise RaeError(f"--trials must be at least 1, got {args.trials}")
    config = resolve_config(args)
    from rae.experiment import reproduce, summary_markdown

    out = args.out or Path("runs") / f"{config.data.dataset}-reproduce"

    def report(trial: int, result: dict) -> None:
        metrics = ", ".join(f"{key} {value:.3f}" for key, value in result["metrics"].items())
        print(f"trial {trial + 1}/{args.trials} (seed {result['seed']}): {metrics}", flush=True)

    summary = reproduce(config, out, trials=args.trials, quiet=args.quiet, on_trial=report)
    print(summary_markdown(summary))
    print(f"summary: {Path(out) / 'summary.json'}; report: {Path(out) / 'report.html'}")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    print(resolve_config(args).to_json())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rae", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train the RAE into a run directory")
    _add_config_arguments(train)
    train.add_argument("--out", required=True, type=Path, help="the run directory to create")
    train.add_argument("--resume", action="store_true", help="continue the unfinished run in --out")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    train.add_argument("--quiet", action="store_true", help="no progress output")
    train.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="compute the paper's four metrics for a trained run")
    evaluate.add_argument("run_dir", type=Path)
    evaluate.add_argument("--baseline", action="append", default=[], choices=["gmm-pixels"],
                          help="also compute a baseline (gmm-pixels: log p(x) of a GMM on pixels)")
    evaluate.add_argument("--set", action="append", default=[], metavar="eval.KEY=VALUE",
                          help="override an evaluation setting, e.g. --set eval.mask=bottom-half")
    evaluate.add_argument("--quiet", action="store_true", help="no progress output")
    evaluate.set_defaults(func=_cmd_evaluate)

    reproduce = sub.add_parser("reproduce", help="train and evaluate several seeds; mean ± sd beside the paper")
    _add_config_arguments(reproduce)
    reproduce.add_argument("--trials", type=int, default=10)
    reproduce.add_argument("--out", type=Path, help="folder of the trials (default runs/<dataset>-reproduce)")
    reproduce.add_argument("--quiet", action="store_true", help="no per-epoch progress output")
    reproduce.set_defaults(func=_cmd_reproduce)

    report = sub.add_parser("report", help="write report.html/report.md (and figures/) for a run or reproduce folder")
    report.add_argument("run_dir", type=Path, help="a run directory, or the --out folder of `rae reproduce`")
    report.set_defaults(func=_cmd_report)

    config = sub.add_parser("config", help="print the resolved config as JSON")
    _add_config_arguments(config)
    config.set_defaults(func=_cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RaeError as exc:
        print(f"rae: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("rae: interrupted; continue with --resume", file=sys.stderr)
        return 130
