"""The figures of a run and of a reproduce folder, written as PNG (and optionally PDF).

Every figure is a `matplotlib.figure.Figure` on the Agg canvas, never pyplot:
pyplot keeps global state, which is neither thread-safe nor needed to write files.

Image grids (reconstructions, completions, GMM samples) are not drawn with
`imshow` into axes, which resamples the image to whatever size the layout gives
it. The mosaic is instead built as an array here, enlarged by an integer factor
and placed pixel for pixel (`figimage`), so that what a test checks in the array
is exactly what the PNG shows: equal data gives equal screen pixels.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rae.config import COMPLETION_METHODS
from rae.errors import RunDirError
from rae.reporting.paper import METRIC_LABELS, METRICS, paper_rows
from rae.rundir import RunDir, read_json

DPI = 130
PAD = 2  # mosaic pixels between tiles
TINT_RGB = (1.0, 0.45, 0.0)  # orange: the hidden pixels of pattern completion
TINT_ALPHA = 0.35
FIGSIZES: dict[str, tuple[float, float]] = {
    "latents": (7.0, 5.5),
    "training_curves": (10.0, 4.0),
    "iterative_completion": (6.5, 4.5),
    "trial_metrics": (10.0, 7.5),
}
TITLE_PT, LABEL_PT = 11, 9
RECONSTRUCTION_LABELS = ("test image", "reconstruction")


# --------------------------------------------------------------------------- saving


def _new_figure(figsize: tuple[float, float], **kwargs: Any) -> Figure:
    fig = Figure(figsize=figsize, dpi=DPI, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Temporary file and rename, so a viewer or report never reads half a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig: Figure, path: str | Path, *, pdf: bool = False) -> Path:
    """Write `fig` to `path` (PNG) and, if asked, a PDF beside it; returns the PNG path.

    No `bbox_inches="tight"`: the PNG keeps exactly figsize x dpi pixels.
    """
    path = Path(path).with_suffix(".png")
    formats = ("png", "pdf") if pdf else ("png",)
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=DPI)
        _write_bytes_atomic(path.with_suffix(f".{fmt}"), buffer.getvalue())
    return path


# --------------------------------------------------------------------------- image mosaics


def tile_slices(row: int, col: int, image_shape: Sequence[int], pad: int = PAD) -> tuple[slice, slice]:
    """Where tile (row, col) sits in a mosaic made by `tile_images`."""
    h, w = image_shape
    top, left = pad + row * (h + pad), pad + col * (w + pad)
    return slice(top, top + h), slice(left, left + w)


def tile_images(images: np.ndarray, image_shape: Sequence[int], ncols: int, *, pad: int = PAD) -> np.ndarray:
    """Flat row-major images -> one 2-D mosaic, `ncols` per row, white gaps between tiles."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, *image_shape)
    nrows = -(-len(images) // ncols)
    h, w = image_shape
    mosaic = np.ones((pad + nrows * (h + pad), pad + ncols * (w + pad)), dtype=np.float32)
    for index, image in enumerate(images):
        mosaic[tile_slices(*divmod(index, ncols), image_shape, pad)] = image
    return mosaic


def grey_to_rgb(mosaic: np.ndarray) -> np.ndarray:
    """The grey colormap with vmin 0, vmax 1 (0 black, 1 white), as float RGB."""
    clipped = np.clip(mosaic, 0.0, 1.0)
    return matplotlib.colormaps["gray"](clipped)[..., :3].astype(np.float32)


def tint(rgb: np.ndarray, where: np.ndarray) -> np.ndarray:
    """A translucent orange over the pixels `where` is True (alpha blend)."""
    out = rgb.copy()
    out[where] = (1 - TINT_ALPHA) * out[where] + TINT_ALPHA * np.asarray(TINT_RGB, dtype=np.float32)
    return out


def reconstruction_grid(images: np.ndarray, reconstructions: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """RGB mosaic: the test images in the top row, their reconstructions below."""
    images, reconstructions = np.asarray(images), np.asarray(reconstructions)
    stacked = np.concatenate([images, reconstructions])
    return grey_to_rgb(tile_images(stacked, image_shape, ncols=len(images)))


def completion_grid(
    rows: Sequence[np.ndarray], mask: np.ndarray, image_shape: Sequence[int], tinted: Sequence[bool]
) -> tuple[np.ndarray, np.ndarray]:
    """RGB mosaic with one row per entry of `rows`; returns (rgb, overlay).

    `overlay` is True on the mosaic pixels that carry the tint: the masked
    pixels (mask True) of every tile in a row whose `tinted` flag is set.
    """
    ncols = len(rows[0])
    mosaic = tile_images(np.concatenate([np.asarray(r) for r in rows]), image_shape, ncols=ncols)
    overlay = np.zeros(mosaic.shape, dtype=bool)
    hidden = np.asarray(mask, dtype=bool).reshape(image_shape)
    for row in (row for row, flag in enumerate(tinted) if flag):
        for col in range(ncols):
            overlay[tile_slices(row, col, image_shape)] = hidden
    return tint(grey_to_rgb(mosaic), overlay), overlay


def describe_mask(mask: np.ndarray, image_shape: Sequence[int]) -> str:
    """A short human description of the hidden pixels, e.g. 'right half, columns 14–27'."""
    h, w = image_shape
    grid = np.asarray(mask, dtype=bool).reshape(h, w)
    cols, rows = np.flatnonzero(grid[0]), np.flatnonzero(grid[:, 0])
    if (grid == grid[0]).all() and _contiguous(cols):
        name = "right half, " if (cols[0], cols[-1]) == (w // 2, w - 1) else ""
        return f"{name}columns {cols[0]}–{cols[-1]}"
    if (grid == grid[:, :1]).all() and _contiguous(rows):
        name = "bottom half, " if (rows[0], rows[-1]) == (h // 2, h - 1) else ""
        return f"{name}rows {rows[0]}–{rows[-1]}"
    return f"{int(grid.sum())} scattered pixels"


def _contiguous(indices: np.ndarray) -> bool:
    return indices.size > 0 and bool(np.all(np.diff(indices) == 1))


@dataclass(frozen=True)
class GridLayout:
    """Pixel geometry of a mosaic figure: margins in screen pixels, mosaic enlarged by `scale`."""

    mosaic_shape: tuple[int, int]
    scale: int
    left: int
    top: int
    right: int = 14
    bottom: int = 14

    @property
    def size_px(self) -> tuple[int, int]:
        """(height, width) of the PNG, as `imread` gives its array shape."""
        h, w = self.mosaic_shape
        return self.top + h * self.scale + self.bottom, self.left + w * self.scale + self.right

    @property
    def figsize(self) -> tuple[float, float]:
        height, width = self.size_px
        return _inches(width), _inches(height)

    def png_region(self, rows: slice, cols: slice) -> tuple[slice, slice]:
        """The PNG pixels that show mosaic[rows, cols]."""
        s = self.scale
        return (slice(self.top + rows.start * s, self.top + rows.stop * s),
                slice(self.left + cols.start * s, self.left + cols.stop * s))


def _inches(pixels: int) -> float:
    """pixels / DPI, nudged up if float rounding would make Agg's int() lose a pixel."""
    inches = pixels / DPI
    while int(inches * DPI) < pixels:
        inches = float(np.nextafter(inches, np.inf))
    return inches


def _text_px(points: float) -> float:
    return points * DPI / 72


def grid_layout(mosaic_shape: tuple[int, int], scale: int, row_labels: Sequence[str] = (),
                subtitle: bool = False) -> GridLayout:
    """Margins wide enough for the row labels and tall enough for the title lines."""
    longest = max((len(line) for label in row_labels for line in label.split("\n")), default=0)
    left = int(longest * 0.6 * _text_px(LABEL_PT)) + 24 if row_labels else 14
    top = int(_text_px(TITLE_PT) + (_text_px(LABEL_PT) * 1.4 if subtitle else 0)) + 22
    return GridLayout(tuple(mosaic_shape), scale, left=left, top=top)


def _grid_figure(rgb: np.ndarray, layout: GridLayout, title: str, *, subtitle: str = "",
                 row_labels: Sequence[str] = (), image_shape: Sequence[int] = (0, 0)) -> Figure:
    """Place the enlarged mosaic pixel for pixel; title above, row labels at the left."""
    fig = _new_figure(layout.figsize)
    height, width = layout.size_px
    big = np.repeat(np.repeat(rgb, layout.scale, axis=0), layout.scale, axis=1)
    fig.figimage(np.round(big * 255).astype(np.uint8), xo=layout.left, yo=layout.bottom, origin="upper")
    centre_x = (layout.left + layout.mosaic_shape[1] * layout.scale / 2) / width
    fig.text(centre_x, 1 - 8 / height, title, ha="center", va="top", fontsize=TITLE_PT, weight="bold")
    if subtitle:
        fig.text(centre_x, 1 - (12 + _text_px(TITLE_PT)) / height, subtitle, ha="center", va="top",
                 fontsize=LABEL_PT)
    for row, label in enumerate(row_labels):
        centre = tile_slices(row, 0, image_shape)[0]
        y = layout.top + (centre.start + centre.stop) / 2 * layout.scale
        fig.text((layout.left - 8) / width, 1 - y / height, label, ha="right", va="center", fontsize=LABEL_PT)
    return fig


def plot_reconstructions(images: np.ndarray, reconstructions: np.ndarray, image_shape: Sequence[int],
                         path: str | Path, *, scale: int = 2, pdf: bool = False) -> Path:
    """Test images above their reconstructions (Bernoulli means), same column = same image."""
    rgb = reconstruction_grid(images, reconstructions, image_shape)
    layout = grid_layout(rgb.shape[:2], scale, RECONSTRUCTION_LABELS)
    fig = _grid_figure(rgb, layout, "Test images and their reconstructions", row_labels=RECONSTRUCTION_LABELS,
                       image_shape=image_shape)
    return save_figure(fig, path, pdf=pdf)


def completion_rows(masked_inputs: np.ndarray, completions: dict[str, np.ndarray],
                    truth: np.ndarray) -> tuple[list[np.ndarray], list[str], list[bool]]:
    """(rows, row labels, tinted flags) of the completion grid: every row but the truth is tinted.

    `completions` maps a method name (e.g. "one-pass", "map") to its completions, in display order.
    """
    rows = [masked_inputs, *completions.values()]
    labels = ["masked input", *(f"{name}\ncompletion" for name in completions)]
    return rows + [truth], labels + ["truth"], [True] * len(rows) + [False]


def artifact_completions(art: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The completions stored in artifacts.npz (`completion_<method>`), in the protocol's method order."""
    found = {key.removeprefix("completion_").replace("_", "-"): art[key] for key in art if key.startswith("completion_")}
    return {name: found[name] for name in COMPLETION_METHODS if name in found}


def plot_completions(masked_inputs: np.ndarray, completions: dict[str, np.ndarray], truth: np.ndarray,
                     mask: np.ndarray, image_shape: Sequence[int], path: str | Path, *,
                     scale: int = 2, pdf: bool = False) -> Path:
    """Pattern completion: masked input, each method's completion, truth; the hidden pixels tinted orange."""
    rows, labels, tinted = completion_rows(masked_inputs, completions, truth)
    rgb, _ = completion_grid(rows, mask, image_shape, tinted)
    layout = grid_layout(rgb.shape[:2], scale, labels, subtitle=True)
    subtitle = f"orange tint = hidden pixels ({describe_mask(mask, image_shape)}), set to 0 in the input"
    fig = _grid_figure(rgb, layout, "Pattern completion", subtitle=subtitle, row_labels=labels,
                       image_shape=image_shape)
    return save_figure(fig, path, pdf=pdf)


def plot_gmm_samples(samples: np.ndarray, image_shape: Sequence[int], path: str | Path, *,
                     ncols: int = 8, scale: int = 3, pdf: bool = False) -> Path:
    """Decoded GMM latent samples (Bernoulli means): what the density model of log p(x) generates."""
    rgb = grey_to_rgb(tile_images(samples, image_shape, ncols=ncols))
    layout = grid_layout(rgb.shape[:2], scale, subtitle=True)
    fig = _grid_figure(rgb, layout, f"{len(samples)} samples from the latent GMM",
                       subtitle="decoded to Bernoulli means")
    return save_figure(fig, path, pdf=pdf)


# --------------------------------------------------------------------------- plots


def embed_latents(latents: np.ndarray, labels: np.ndarray, *, method: str = "pca", max_points: int = 2000,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """2-D coordinates of the latents: PCA of all points, or t-SNE of a seeded subsample
    (t-SNE is quadratic in the points and slow on 2 cores). Returns (coords, their labels, axis names).
    """
    latents, labels = np.asarray(latents, dtype=np.float64), np.asarray(labels)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(latents)
        names = tuple(f"PC{i + 1} ({share:.0%} of variance)" for i, share in enumerate(pca.explained_variance_ratio_))
        return pca.transform(latents), labels, names
    if method == "tsne":
        from sklearn.manifold import TSNE

        keep = np.sort(np.random.default_rng(seed).permutation(len(latents))[:max_points])
        perplexity = min(30.0, (len(keep) - 1) / 3)
        coords = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(latents[keep])
        return coords, labels[keep], ("t-SNE 1", "t-SNE 2")
    raise ValueError(f"unknown embedding {method!r}; choose 'pca' or 'tsne'")


def plot_latents(latents: np.ndarray, labels: np.ndarray, path: str | Path, *, method: str = "pca",
                 max_points: int = 2000, seed: int = 0, pdf: bool = False) -> Path:
    """The test latents in 2-D coloured by class: how well the code separates the classes (%Err)."""
    coords, shown, (x_name, y_name) = embed_latents(latents, labels, method=method, max_points=max_points, seed=seed)
    fig = _new_figure(FIGSIZES["latents"], layout="constrained")
    ax = fig.add_subplot()
    classes = np.unique(shown)
    if len(classes) <= 10:
        cmap = matplotlib.colormaps["tab10"]
        for index, label in enumerate(classes):
            at = shown == label
            ax.scatter(coords[at, 0], coords[at, 1], s=3, alpha=0.6, color=cmap(index), label=str(label))
        ax.legend(title="class", markerscale=4, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    else:
        points = ax.scatter(coords[:, 0], coords[:, 1], c=shown, s=3, alpha=0.6, cmap="turbo")
        fig.colorbar(points, ax=ax, label="class")
    ax.set(xlabel=x_name, ylabel=y_name,
           title=f"Test latents, {'PCA' if method == 'pca' else 't-SNE'} ({len(coords):,} points)")
    return save_figure(fig, path, pdf=pdf)


def read_history(path: str | Path) -> dict[str, np.ndarray]:
    """history.csv as columns of floats (epoch stays 0-based as Keras writes it)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise RunDirError(f"{path} holds no epochs")
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}


def plot_training_curves(history_csv: str | Path, path: str | Path, *, pdf: bool = False) -> Path:
    """Loss and BCE per epoch (train, validation) beside the learning-rate schedule."""
    history = read_history(history_csv)
    epoch = history["epoch"] + 1  # 1-based, as train_summary.json counts
    fig = _new_figure(FIGSIZES["training_curves"], layout="constrained")
    loss_ax, lr_ax = fig.subplots(1, 2, width_ratios=(2, 1))
    for key, label, style in (("loss", "train loss (BCE + L2)", "C0-"), ("val_loss", "validation loss", "C1-"),
                              ("bce", "train BCE", "C0--"), ("val_bce", "validation BCE", "C1--")):
        if key in history:
            loss_ax.plot(epoch, history[key], style, marker="o", ms=3, label=label)
    if "val_bce" in history:
        best = int(np.argmin(history["val_bce"]))
        loss_ax.axvline(epoch[best], color="grey", ls=":", label=f"best epoch ({int(epoch[best])})")
    loss_ax.set(xlabel="epoch", ylabel="nats per image", title="Training and validation loss")
    loss_ax.legend(fontsize=8)
    for ax in (loss_ax, lr_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if "learning_rate" in history:
        lr_ax.plot(epoch, history["learning_rate"], "C2-", marker="o", ms=3)
    lr_ax.set(xlabel="epoch", ylabel="learning rate", title="Learning rate (end of epoch)")
    return save_figure(fig, path, pdf=pdf)


def _paper_lines(ax: Any, dataset: str, metric: str) -> None:
    """The paper's RAE (with its sd band) and GNCN-PDH as horizontal reference lines."""
    rows = paper_rows(dataset)
    if metric in rows.get("RAE", {}):
        paper = rows["RAE"][metric]
        ax.axhline(paper.mean, color="C3", ls="--", label="paper RAE ± sd")
        ax.axhspan(paper.mean - paper.sd, paper.mean + paper.sd, color="C3", alpha=0.12)
    if metric in rows.get("GNCN-PDH", {}):
        ax.axhline(rows["GNCN-PDH"][metric].mean, color="C2", ls=":", label="paper GNCN-PDH")


def plot_iterative_completion(results: dict[str, Any], path: str | Path, *, pdf: bool = False) -> Path:
    """M-MSE after each iterative-completion step, against the one-pass value and the paper's."""
    curve = results["masked_mse_iterative"]
    fig = _new_figure(FIGSIZES["iterative_completion"], layout="constrained")
    ax = fig.add_subplot()
    ax.plot(curve["steps"], curve["values"], "C0-", marker="o", ms=4, label="iterative (observed pixels clamped)")
    one_pass = results.get("metrics", {}).get("masked_mse")
    if one_pass is not None:
        ax.axhline(one_pass, color="C0", ls=":", label="one pass (the paper's protocol)")
    _paper_lines(ax, results.get("dataset", ""), "masked_mse")
    ax.set(xlabel="completion steps", ylabel="M-MSE (sum of squared errors per image)",
           title="Pattern completion: M-MSE per step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, pdf=pdf)


def plot_trial_metrics(summary: dict[str, Any], path: str | Path, *, pdf: bool = False) -> Path:
    """Each metric across trials (one point per seed, mean ± sd) against the paper's values."""
    metrics = [key for key in METRICS if key in summary["metrics"]]
    fig = _new_figure(FIGSIZES["trial_metrics"], layout="constrained")
    axes = np.atleast_1d(fig.subplots(2, 2) if len(metrics) == 4 else fig.subplots(1, len(metrics))).ravel()
    count = len(summary["metrics"][metrics[0]]["values"])
    seeds = summary.get("seeds") if len(summary.get("seeds") or ()) == count else list(range(count))
    for ax, key in zip(axes, metrics):
        stats = summary["metrics"][key]
        x = np.arange(1, len(stats["values"]) + 1)
        ax.plot(x, stats["values"], "o", color="C0", label="trial")
        ax.axhline(stats["mean"], color="C0", label="ours: mean ± sd")
        ax.axhspan(stats["mean"] - stats["sd"], stats["mean"] + stats["sd"], color="C0", alpha=0.15)
        _paper_lines(ax, summary.get("dataset", ""), key)
        ax.set_xticks(x, [str(s) for s in seeds])
        ax.set_xlim(0.5, len(x) + 0.5)
        ax.set(xlabel="seed", title=f"{METRIC_LABELS[key]}\n({METRICS[key]} is better)")
        ax.grid(alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=len(names), fontsize=9)
    fig.suptitle(f"{summary.get('dataset', '')}: {summary.get('trials', len(seeds))} trial(s) beside the paper",
                 fontsize=TITLE_PT, weight="bold")
    return save_figure(fig, path, pdf=pdf)


# --------------------------------------------------------------------------- run / reproduce folders


def load_artifacts(run: RunDir) -> dict[str, np.ndarray]:
    if not run.artifacts.exists():
        raise RunDirError(f"no artifacts.npz in {run.path}; run `rae evaluate {run.path}` first")
    with np.load(run.artifacts) as npz:
        return {key: npz[key] for key in npz.files}


def write_run_figures(run_dir: str | Path, *, pdf: bool = False, latent_method: str = "pca") -> dict[str, Path]:
    """Every figure of one evaluated run into RUN_DIR/figures/; returns {name: PNG path}, in report order."""
    run = RunDir(Path(run_dir))
    art = load_artifacts(run)
    shape = tuple(int(n) for n in art["image_shape"])
    out = run.figures
    figures = {
        "reconstructions": plot_reconstructions(art["images"], art["reconstructions"], shape,
                                                out / "reconstructions.png", pdf=pdf),
        "completion": plot_completions(art["masked_inputs"], artifact_completions(art), art["images"], art["mask"],
                                       shape, out / "completion.png", pdf=pdf),
        "gmm_samples": plot_gmm_samples(art["gmm_samples"], shape, out / "gmm_samples.png", pdf=pdf),
        "latents": plot_latents(art["test_latents"], art["test_labels"], out / "latents.png",
                                method=latent_method, pdf=pdf),
    }
    if run.history.exists():
        figures["training_curves"] = plot_training_curves(run.history, out / "training_curves.png", pdf=pdf)
    if run.results_json.exists():
        results = read_json(run.results_json)
        if results.get("masked_mse_iterative"):
            figures["iterative_completion"] = plot_iterative_completion(results, out / "iterative_completion.png",
                                                                        pdf=pdf)
    return figures


def read_summary(out_dir: str | Path) -> dict[str, Any]:
    path = Path(out_dir) / "summary.json"
    if not path.exists():
        raise RunDirError(f"no summary.json in {out_dir}; run `rae reproduce --out {out_dir}` first")
    return read_json(path)


def write_reproduce_figures(out_dir: str | Path, *, pdf: bool = False) -> dict[str, Path]:
    """The figures of a reproduce folder into OUT/figures/; returns {name: PNG path}."""
    summary = read_summary(out_dir)
    return {"trial_metrics": plot_trial_metrics(summary, Path(out_dir) / "figures" / "trial_metrics.png", pdf=pdf)}
