"""One-page reports of a run or a reproduce folder: `report.html` and `report.md`.

The page is first built as a list of blocks (heading, paragraph, note, table,
figure, ...) and then rendered twice, so that the HTML and the markdown can never
say different things. The HTML is self-contained (figures as base64 data URIs,
inline CSS, no external resources), so it can be mailed or archived alone; the
markdown links the figures by relative path, for reading on a code host.

Tables are markdown (the project's table helpers write markdown); the HTML
renderer converts them itself, to avoid a markdown dependency.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rae.errors import RunDirError
from rae.reporting.figures import write_reproduce_figures, write_run_figures
from rae.reporting.paper import METRIC_LABELS, METRICS
from rae.reporting.tables import (
    LOG_S_NOTE,
    comparison_table,
    completion_table,
    format_value,
    iterative_completion_sentence,
)
from rae.rundir import RunDir, read_json, trial_dir, write_text_atomic

CAPTIONS = {
    "reconstructions": "Top: test images; bottom: their reconstructions (Bernoulli means, grey scale 0 to 1).",
    "completion": "Pattern completion: the orange pixels are hidden (set to 0) and filled in by the model; "
                  "the last row is the truth.",
    "gmm_samples": "Latents drawn from the GMM that log p(x) uses, decoded to Bernoulli means.",
    "latents": "The test latents in two dimensions, coloured by class (what the %Err classifier sees).",
    "training_curves": "Loss (BCE + L2) and BCE per epoch on the training and validation splits; learning rate.",
    "iterative_completion": "M-MSE after each iterative-completion step (observed pixels clamped), beside the "
                            "one-pass value and the paper's.",
    "trial_metrics": "Each metric per trial (points) with our mean ± sd (blue), the paper's RAE (red, ± sd) "
                     "and GNCN-PDH (green).",
}

# (config section, key, the paper's value, what it is): settings that make numbers incomparable.
PAPER_PROTOCOL = (
    ("train", "epochs", 50, "training epochs"),
    ("train", "batch_size", 200, "batch size"),
    ("eval", "gmm_components", 75, "GMM components K"),
    ("eval", "gmm_covariance", "full", "GMM covariance"),
    ("eval", "num_samples", 5000, "GMM samples S"),
    ("eval", "mask", "right-half", "completion mask"),
)
PAPER_TRIALS = 10

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; }
th { background: #f2f2f2; }
.note { background: #fff3cd; border-left: 5px solid #e0a800; padding: .6em 1em; margin: .6em 0; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-style: italic; color: #555; }
code, pre { background: #f6f8fa; } pre { padding: .8em; overflow-x: auto; }
"""


@dataclass(frozen=True)
class Block:
    """One piece of a report: kind is h1, h2, p, note, table (markdown) or figure (path + caption)."""

    kind: str
    text: str
    path: Path | None = None


# --------------------------------------------------------------------------- rendering


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _inline_html(text: str) -> str:
    """Escape, then turn markdown `code` and [text](href) into HTML."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{html.escape(m[2])}">{m[1]}</a>', text)


def markdown_table_to_html(table: str) -> str:
    """A pipe table (header, separator, rows) as an HTML <table>."""
    lines = [line for line in table.strip().splitlines() if line.strip().startswith("|")]
    rows = [_cells(line) for line in lines if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line.strip())]
    if not rows:
        return ""
    head = "".join(f"<th>{_inline_html(cell)}</th>" for cell in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in row) + "</tr>\n" for row in rows[1:])
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(blocks: list[Block], title: str) -> str:
    """Self-contained HTML: inline CSS, figures embedded as data URIs."""
    parts = []
    for block in blocks:
        text = _inline_html(block.text)
        if block.kind in ("h1", "h2", "p"):
            parts.append(f"<{block.kind}>{text}</{block.kind}>")
        elif block.kind == "note":
            parts.append(f'<div class="note"><strong>Note:</strong> {text}</div>')
        elif block.kind == "table":
            parts.append(markdown_table_to_html(block.text))
        elif block.kind == "figure":
            parts.append(f'<figure><img src="{_data_uri(block.path)}" alt="{html.escape(block.text)}">'
                         f"<figcaption>{text}</figcaption></figure>")
        else:
            raise ValueError(f"unknown block kind {block.kind!r}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n")


def render_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown with figures linked relative to `base` (the folder report.md is in)."""
    parts = []
    for block in blocks:
        if block.kind == "h1":
            parts.append(f"# {block.text}")
        elif block.kind == "h2":
            parts.append(f"## {block.text}")
        elif block.kind == "note":
            parts.append(f"> **Note:** {block.text}")
        elif block.kind == "figure":
            link = Path(os.path.relpath(block.path, base)).as_posix()
            parts.append(f"![{block.text}]({link})\n\n*{block.text}*")
        else:
            parts.append(block.text.rstrip("\n"))
    return "\n\n".join(parts) + "\n"


def _write(blocks: list[Block], folder: Path, title: str) -> tuple[Path, Path]:
    html_path, md_path = folder / "report.html", folder / "report.md"
    write_text_atomic(html_path, render_html(blocks, title))
    write_text_atomic(md_path, render_markdown(blocks, folder))
    return html_path, md_path


# --------------------------------------------------------------------------- shared sections


def _flatten(config: dict[str, Any], prefix: str = "") -> list[list[str]]:
    rows = []
    for key, value in config.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append([f"`{prefix}{key}`", json.dumps(value)])
    return rows


def config_section(config: dict[str, Any]) -> list[Block]:
    return [Block("h2", "Config"), Block("table", markdown_table(["setting", "value"], _flatten(config)))]


def versions_section(columns: dict[str, dict[str, str]]) -> list[Block]:
    """Library versions, one column per stage (training, evaluation) that recorded them."""
    columns = {name: versions for name, versions in columns.items() if versions}
    names = sorted({key for versions in columns.values() for key in versions})
    rows = [[name] + [versions.get(name, "-") for versions in columns.values()] for name in names]
    return [Block("h2", "Library versions"), Block("table", markdown_table(["library", *columns], rows))]


def protocol_deviations(config: dict[str, Any], protocol: dict[str, Any] | None = None) -> list[str]:
    """Settings that differ from the paper's; `protocol` (results.json) overrides the config's eval part."""
    notes = []
    for section, key, paper, what in PAPER_PROTOCOL:
        used = (protocol or {}).get(key) if section == "eval" else None
        used = config.get(section, {}).get(key) if used is None else used
        if used is not None and used != paper:
            notes.append(f"Not the paper's protocol: {what} = {used} (the paper: {paper}); "
                         "the numbers are not directly comparable with the paper's.")
    return notes


def _read_optional(path: Path) -> dict[str, Any]:
    return read_json(path) if path.exists() else {}


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}"


# --------------------------------------------------------------------------- one run


def require_results(run: RunDir) -> dict[str, Any]:
    if not run.results_json.exists():
        raise RunDirError(f"no results.json in {run.path}; run `rae evaluate {run.path}` first")
    return read_json(run.results_json)


def completion_blocks(dataset: str, completion: dict[str, tuple[float, float | None]]) -> list[Block]:
    return [Block("h2", "Pattern completion (M-MSE by method)"),
            Block("table", completion_table(dataset, completion)),
            Block("p", "Only one-pass is the paper's procedure; the others complete by feedback or by "
                       "inference under the model's own prior, with the model unchanged.")]


def results_section(results: dict[str, Any]) -> list[Block]:
    ours = {key: (value, None) for key, value in results["metrics"].items()}
    blocks = [Block("h2", "Results beside the paper (test set)"),
              Block("table", comparison_table(results["dataset"], ours)), Block("p", LOG_S_NOTE)]
    if results.get("completion"):
        blocks += completion_blocks(results["dataset"], {m: (v, None) for m, v in results["completion"].items()})
    curve = results.get("masked_mse_iterative")
    if curve:
        blocks.append(Block("p", iterative_completion_sentence(curve)))
    for name, value in results.get("baselines", {}).items():
        blocks.append(Block("p", f"Baseline `{name}`: {value:.3f}"))
    protocol = results.get("protocol", {})
    if protocol:
        get = protocol.get
        blocks.append(Block("p", f"Protocol: mask `{get('mask')}` ({get('masked_pixels')} pixels); "
                                 f"GMM with K = {get('gmm_components')} ({get('gmm_covariance')}) "
                                 f"fitted on {get('gmm_fit_images')} training latents, "
                                 f"S = {get('num_samples')} samples; {get('test_images')} test images."))
    return blocks


def run_notes(results: dict[str, Any], config: dict[str, Any], train_summary: dict[str, Any]) -> list[str]:
    notes = list(results.get("notes", [])) + protocol_deviations(config, results.get("protocol"))
    done, planned = train_summary.get("epochs_completed"), config.get("train", {}).get("epochs")
    if done is not None and planned is not None and done < planned:
        notes.append(f"Training stopped after {done} of {planned} epochs.")
    return notes


def timing_section(train_summary: dict[str, Any], results: dict[str, Any]) -> list[Block]:
    rows = [["training (train_summary.json)", _seconds(train_summary.get("wall_time_s"))],
            ["evaluation (results.json)", _seconds(results.get("wall_time_s"))]]
    rows += [[f"evaluation: `{step}`", _seconds(seconds)] for step, seconds in results.get("timings_s", {}).items()]
    training = ""
    if train_summary:
        training = (f"Training: {train_summary.get('epochs_completed')} epochs, best epoch "
                    f"{train_summary.get('best_epoch')} (validation BCE {train_summary.get('best_val_bce', 0):.3f}); "
                    "every metric uses that epoch's checkpoint.")
    blocks = [Block("h2", "Wall time"), Block("table", markdown_table(["stage", "seconds"], rows))]
    return blocks + ([Block("p", training)] if training else [])


def write_report(run_dir: str | Path) -> tuple[Path, Path]:
    """Write RUN_DIR/report.html and RUN_DIR/report.md (figures are (re)drawn first)."""
    run = RunDir(Path(run_dir))
    results = require_results(run)
    config, train_summary = _read_optional(run.config), _read_optional(run.train_summary)
    figures = write_run_figures(run.path)
    title = f"rae run report: {results['dataset']}, seed {results['seed']}"
    blocks = [Block("h1", title), Block("p", f"Run directory `{run.path}`; "
                                             f"model `{results.get('checkpoint', 'checkpoints/best.keras')}`.")]
    blocks += [Block("note", note) for note in run_notes(results, config, train_summary)]
    blocks += results_section(results)
    blocks += [Block("h2", "Figures")]
    blocks += [Block("figure", CAPTIONS.get(name, name), path) for name, path in figures.items()]
    blocks += timing_section(train_summary, results)
    blocks += config_section(config)
    blocks += versions_section({"training": _read_optional(run.environment), "evaluation": results.get("versions", {})})
    return _write(blocks, run.path, title)


# --------------------------------------------------------------------------- reproduce folder


def trial_wall_times(summary: dict[str, Any], trial: int) -> tuple[Any, Any]:
    """(training s, evaluation s) of one trial, from summary.json's `wall_time_s`."""
    entries = summary.get("wall_time_s") or []
    entry = entries[trial] if trial < len(entries) else {}
    return entry.get("train_s"), entry.get("evaluate_s")


def trials_section(out: Path, summary: dict[str, Any]) -> list[Block]:
    """One row per trial: its metrics, wall times and a link to its report if one exists."""
    metrics = [key for key in METRICS if key in summary["metrics"]]
    header = ["trial", "seed", *(METRIC_LABELS[key] for key in metrics), "training s", "evaluation s", "report"]
    rows = []
    for trial, seed in enumerate(summary["seeds"]):
        folder = trial_dir(out, trial, seed)
        link = f"[{folder.name}]({folder.name}/report.html)" if (folder / "report.html").exists() else "-"
        training, evaluation = trial_wall_times(summary, trial)
        rows.append([trial, seed, *(format_value(summary["metrics"][key]["values"][trial]) for key in metrics),
                     _seconds(training), _seconds(evaluation), link])
    return [Block("h2", "Trials"), Block("table", markdown_table(header, rows))]


def trial_deviations(out: Path, summary: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """Deviations of the config and of every trial's evaluated protocol (an eval override shows only there)."""
    notes = protocol_deviations(config)
    for trial, seed in enumerate(summary["seeds"]):
        results = _read_optional(trial_dir(out, trial, seed) / "results.json")
        notes += protocol_deviations(config, results.get("protocol"))
    return list(dict.fromkeys(notes))


def write_reproduce_report(out_dir: str | Path) -> tuple[Path, Path]:
    """Write OUT/report.html and OUT/report.md for a `rae reproduce` folder."""
    out = Path(out_dir)
    figures = write_reproduce_figures(out)  # raises RunDirError without summary.json
    summary = read_json(out / "summary.json")
    config = summary.get("config", {})
    title = f"rae reproduce report: {summary['dataset']}, {summary['trials']} trial(s)"
    notes = list(summary.get("notes", [])) + trial_deviations(out, summary, config)
    if summary["trials"] < PAPER_TRIALS:
        notes.append(f"{summary['trials']} trial(s); the paper reports mean ± sd over {PAPER_TRIALS} trials.")
    ours = {key: (value["mean"], value["sd"]) for key, value in summary["metrics"].items()}
    blocks = [Block("h1", title), Block("p", f"Folder `{out}`; seeds {summary['seeds']}.")]
    blocks += [Block("note", note) for note in notes]
    blocks += [Block("h2", "Results beside the paper (test set, mean ± sample sd over trials)"),
               Block("table", comparison_table(summary["dataset"], ours, label="rae (ours), mean ± sd")),
               Block("p", LOG_S_NOTE)]
    if summary.get("completion"):
        blocks += completion_blocks(summary["dataset"],
                                    {m: (v["mean"], v["sd"]) for m, v in summary["completion"].items()})
    blocks += [Block("figure", CAPTIONS.get(name, name), path) for name, path in figures.items()]
    blocks += trials_section(out, summary)
    blocks += config_section(config)
    blocks += versions_section({"reproduce": summary.get("versions", {})})
    return _write(blocks, out, title)
