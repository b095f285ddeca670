"""Figures: valid, sized and non-blank PNGs, and pixels that show exactly the data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from PIL import Image

from rae.config import Config
from rae.errors import RunDirError
from rae.reporting import figures
from rae.reporting.figures import (
    DPI,
    FIGSIZES,
    PAD,
    RECONSTRUCTION_LABELS,
    completion_grid,
    artifact_completions,
    completion_rows,
    describe_mask,
    embed_latents,
    grid_layout,
    plot_completions,
    plot_reconstructions,
    reconstruction_grid,
    tile_images,
    tile_slices,
    write_reproduce_figures,
    write_run_figures,
)

SHAPE = (28, 28)
N_IMAGES = 16
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RIGHT_HALF = np.tile(np.arange(28) >= 14, 28)  # built here, independently of rae.evaluation.masks


# --------------------------------------------------------------------------- synthetic inputs


def _images(rng: np.random.Generator, n: int) -> np.ndarray:
    """Binary 'strokes': a random bar per image plus speckle, so tiles differ and are not blank."""
    images = (rng.random((n, *SHAPE)) < 0.08).astype(np.float32)
    for image in images:
        r, c = rng.integers(4, 20, size=2)
        image[r:r + 8, c:c + 3] = 1.0
    return images.reshape(n, -1)


def make_artifacts(rng: np.random.Generator, *, iterative: bool = True, n_latents: int = 300) -> dict:
    images = _images(rng, N_IMAGES)
    labels = np.arange(n_latents) % 10
    centres = rng.normal(size=(10, 20))
    artifacts = dict(
        image_shape=np.array(SHAPE),
        images=images,
        reconstructions=np.clip(images * 0.8 + 0.1, 0, 1),
        mask=RIGHT_HALF.copy(),
        masked_inputs=np.where(RIGHT_HALF, 0.0, images).astype(np.float32),
        completion_one_pass=np.where(RIGHT_HALF, 0.5, images).astype(np.float32),
        gmm_samples=rng.random((64, 784)).astype(np.float32),
        test_latents=(centres[labels] + 0.3 * rng.normal(size=(n_latents, 20))).astype(np.float32),
        test_labels=labels,
    )
    if iterative:
        artifacts["completion_iterative"] = np.where(RIGHT_HALF, 0.7, images).astype(np.float32)
    return artifacts


def make_results(dataset: str = "mnist", notes: tuple[str, ...] = ()) -> dict:
    metrics = {"bce": 71.04, "log_likelihood": -128.34, "classification_error": 12.38, "masked_mse": 46.45}
    return {
        "dataset": dataset,
        "seed": 0,
        "metrics": metrics,
        "masked_mse_iterative": {"steps": [1, 2, 3, 4], "values": [46.45, 45.3, 46.0, 46.9]},
        "baselines": {},
        "protocol": {"mask": "right-half", "masked_pixels": 392, "gmm_components": 75, "gmm_covariance": "full",
                     "num_samples": 5000, "gmm_fit_images": 58000, "test_images": 10000},
        "notes": list(notes),
        "timings_s": {"bce": 1.2, "gmm_fit": 11.9},
        "checkpoint": "checkpoints/best.keras",
        "wall_time_s": 26.3,
        "versions": {"numpy": "9.9.9-eval", "python": "3.11.7"},
    }


def write_history(path: Path, epochs: int = 4) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", "bce", "learning_rate", "loss", "val_bce", "val_loss"])
        for epoch in range(epochs):
            bce = 120 - 10 * epoch
            writer.writerow([epoch, bce, 0.1 * 0.95 ** (epoch + 1), bce + 0.3, bce - 5, bce - 4.7])


def make_run(path: Path, *, seed: int = 0, iterative: bool = True, notes: tuple[str, ...] = (),
             config_overrides: dict | None = None) -> Path:
    """A complete synthetic run directory (no training): what `rae train` + `rae evaluate` leave."""
    path.mkdir(parents=True, exist_ok=True)
    config = Config().replace(seed=seed, **(config_overrides or {})).to_dict()
    (path / "config.json").write_text(json.dumps(config))
    (path / "environment.json").write_text(json.dumps({"numpy": "9.9.9-train", "python": "3.11.7"}))
    (path / "train_summary.json").write_text(json.dumps(
        {"epochs_completed": 4, "best_epoch": 4, "best_val_bce": 85.0, "wall_time_s": 19.6}))
    write_history(path / "history.csv")
    results = make_results(notes=notes)
    if not iterative:
        results["masked_mse_iterative"] = None
    (path / "results.json").write_text(json.dumps(results))
    np.savez_compressed(path / "artifacts.npz", **make_artifacts(np.random.default_rng(seed), iterative=iterative))
    return path


def make_summary(seeds=(0, 1, 2)) -> dict:
    rng = np.random.default_rng(1)
    metrics = {}
    for key, centre in (("bce", 70.0), ("log_likelihood", -128.0), ("classification_error", 12.4),
                        ("masked_mse", 46.0)):
        values = centre + rng.normal(size=len(seeds))
        sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0  # as rae.experiment.summarize
        metrics[key] = {"mean": float(values.mean()), "sd": sd, "values": values.tolist()}
    return {"dataset": "mnist", "trials": len(seeds), "seeds": list(seeds), "metrics": metrics,
            "wall_time_s": [{"train_s": 300.0, "evaluate_s": 25.0}] * len(seeds), "notes": [],
            "config": Config().to_dict(), "versions": {"numpy": "9.9.9", "python": "3.11.7"}}


def read_png(path: Path) -> np.ndarray:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return mpimg.imread(path)


def assert_valid_png(path: Path, size_px: tuple[int, int]) -> np.ndarray:
    """A PNG of (height, width) pixels at DPI, neither blank nor single-coloured."""
    pixels = read_png(path)
    assert pixels.shape[:2] == size_px
    assert pixels[..., :3].var() > 0
    dpi = Image.open(path).info.get("dpi")
    assert dpi is not None and dpi == pytest.approx((DPI, DPI), abs=0.5)
    return pixels


def figsize_px(name: str) -> tuple[int, int]:
    width, height = FIGSIZES[name]
    return round(height * DPI), round(width * DPI)


def mosaic_px(rows: int, cols: int) -> tuple[int, int]:
    return PAD + rows * (SHAPE[0] + PAD), PAD + cols * (SHAPE[1] + PAD)


@pytest.fixture(scope="module")
def run_figures(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    run = make_run(tmp_path_factory.mktemp("figures") / "run")
    return run, write_run_figures(run, pdf=True)


# --------------------------------------------------------------------------- every figure of a run


def test_write_run_figures_writes_every_figure_into_the_run(run_figures):
    run, written = run_figures
    assert list(written) == ["reconstructions", "completion", "gmm_samples", "latents", "training_curves",
                             "iterative_completion"]
    for name, path in written.items():
        assert path == run / "figures" / f"{name}.png"
        assert path.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert not list((run / "figures").glob(".*.tmp"))


@pytest.mark.parametrize("name", ["latents", "training_curves", "iterative_completion"])
def test_plots_are_valid_pngs_of_figsize_times_dpi(run_figures, name):
    assert_valid_png(run_figures[1][name], figsize_px(name))


@pytest.mark.parametrize("name, rows, cols, scale, labels", [
    ("reconstructions", 2, N_IMAGES, 2, RECONSTRUCTION_LABELS),
    ("completion", 4, N_IMAGES, 2, completion_rows(np.zeros(1), {"one-pass": 0, "iterative": 0}, np.zeros(1))[1]),
    ("gmm_samples", 8, 8, 3, ()),
])
def test_grids_are_valid_pngs_of_the_enlarged_mosaic_plus_margins(run_figures, name, rows, cols, scale, labels):
    height, width = mosaic_px(rows, cols)
    layout = grid_layout((height, width), scale, labels, subtitle=name != "reconstructions")
    expected = (layout.top + scale * height + layout.bottom, layout.left + scale * width + layout.right)
    assert layout.size_px == expected
    assert_valid_png(run_figures[1][name], expected)
    assert 120 <= DPI <= 150


def test_missing_artifacts_tell_the_user_to_evaluate(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "artifacts.npz").unlink()
    with pytest.raises(RunDirError, match=r"rae evaluate .*run.* first"):
        write_run_figures(run)


def test_without_iterative_completion_there_is_no_curve_and_three_completion_rows(tmp_path):
    run = make_run(tmp_path / "run", iterative=False)
    written = write_run_figures(run)
    assert "iterative_completion" not in written
    height, width = mosaic_px(3, N_IMAGES)
    layout = grid_layout((height, width), 2, completion_rows(np.zeros(1), {"one-pass": 0}, np.zeros(1))[1],
                         subtitle=True)
    assert read_png(written["completion"]).shape[:2] == layout.size_px


# --------------------------------------------------------------------------- pixels show the data


def test_tiles_are_reshaped_row_major():
    image = np.arange(784, dtype=np.float32)[None] / 783
    mosaic = tile_images(np.repeat(image, 3, axis=0), SHAPE, ncols=2)
    for row, col in [(0, 0), (0, 1), (1, 0)]:
        np.testing.assert_array_equal(mosaic[tile_slices(row, col, SHAPE)], image.reshape(SHAPE))
    assert mosaic[tile_slices(1, 1, SHAPE)].min() == 1.0  # the empty slot stays white


def test_grey_scale_is_fixed_from_0_black_to_1_white():
    rgb = reconstruction_grid(np.zeros((1, 784)), np.ones((1, 784)), SHAPE)
    np.testing.assert_array_equal(rgb[tile_slices(0, 0, SHAPE)], 0.0)
    np.testing.assert_array_equal(rgb[tile_slices(1, 0, SHAPE)], 1.0)


def _tile_row_region(layout, row: int, cols: int) -> tuple[slice, slice]:
    rows = tile_slices(row, 0, SHAPE)[0]
    return layout.png_region(rows, slice(PAD, PAD + cols * (SHAPE[1] + PAD) - PAD))


def test_identity_model_gives_identical_top_and_bottom_rows_in_grid_and_png(tmp_path):
    images = _images(np.random.default_rng(3), N_IMAGES)
    rgb = reconstruction_grid(images, images, SHAPE)
    top, bottom = tile_slices(0, 0, SHAPE)[0], tile_slices(1, 0, SHAPE)[0]
    np.testing.assert_array_equal(rgb[top], rgb[bottom])

    png = read_png(plot_reconstructions(images, images, SHAPE, tmp_path / "identity.png"))
    layout = grid_layout(rgb.shape[:2], 2, RECONSTRUCTION_LABELS)
    upper, lower = png[_tile_row_region(layout, 0, N_IMAGES)], png[_tile_row_region(layout, 1, N_IMAGES)]
    np.testing.assert_array_equal(upper, lower)
    # and the PNG shows the mosaic pixel for pixel, each data pixel as a 2x2 block
    shown = np.repeat(np.repeat(rgb[top, PAD:-PAD], 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(np.round(upper[..., :3] * 255), np.round(shown * 255))


def test_a_model_that_changes_its_input_gives_different_rows_in_the_png(tmp_path):
    images = _images(np.random.default_rng(3), N_IMAGES)
    png = read_png(plot_reconstructions(images, 1 - images, SHAPE, tmp_path / "inverted.png"))
    layout = grid_layout(reconstruction_grid(images, images, SHAPE).shape[:2], 2, RECONSTRUCTION_LABELS)
    assert not np.array_equal(png[_tile_row_region(layout, 0, N_IMAGES)], png[_tile_row_region(layout, 1, N_IMAGES)])


def test_completion_overlay_covers_exactly_columns_14_to_27_of_the_tinted_rows():
    art = make_artifacts(np.random.default_rng(0))
    rows, _, tinted = completion_rows(art["masked_inputs"], artifact_completions(art), art["images"])
    assert tinted == [True, True, True, False]
    rgb, overlay = completion_grid(rows, art["mask"], SHAPE, tinted)
    expected_tile = np.zeros(SHAPE, dtype=bool)
    expected_tile[:, 14:] = True
    for row, flag in enumerate(tinted):
        for col in range(N_IMAGES):
            tile = tile_slices(row, col, SHAPE)
            np.testing.assert_array_equal(overlay[tile], expected_tile if flag else False)
    assert overlay.sum() == 3 * N_IMAGES * 392  # nothing outside the tiles (gaps, truth row)
    grey = rgb[~overlay]
    assert np.all(grey[:, 0] == grey[:, 1]) and np.all(grey[:, 1] == grey[:, 2])  # untinted pixels stay grey
    tinted_px = rgb[overlay]
    assert np.all(tinted_px[:, 0] > tinted_px[:, 2])  # tinted pixels are orange-ish (red above blue)


def test_completion_png_is_orange_right_of_the_middle_and_grey_left_of_it(tmp_path):
    art = make_artifacts(np.random.default_rng(0), iterative=False)
    completions = artifact_completions(art)
    rows, labels, tinted = completion_rows(art["masked_inputs"], completions, art["images"])
    path = plot_completions(art["masked_inputs"], completions, art["images"], art["mask"], SHAPE,
                            tmp_path / "completion.png")
    png = read_png(path)
    rgb, _ = completion_grid(rows, art["mask"], SHAPE, tinted)
    layout = grid_layout(rgb.shape[:2], 2, labels, subtitle=True)
    rows_px, cols_px = layout.png_region(*tile_slices(0, 0, SHAPE))  # first masked input
    tile = png[rows_px, cols_px, :3]
    left, right = tile[:, : 14 * 2], tile[:, 14 * 2:]
    assert np.all(left[..., 0] == left[..., 2])
    assert np.all(right[..., 0] > right[..., 2])


@pytest.mark.parametrize("mask, text", [
    (RIGHT_HALF, "right half, columns 14–27"),
    (np.repeat(np.arange(28) >= 14, 28), "bottom half, rows 14–27"),
    (np.random.default_rng(0).random(784) < 0.5, "scattered pixels"),
])
def test_the_mask_is_described_in_words(mask, text):
    assert text in describe_mask(mask, SHAPE)


# --------------------------------------------------------------------------- latents, reproduce


def test_tsne_embeds_a_seeded_subsample():
    art = make_artifacts(np.random.default_rng(0), n_latents=150)
    coords, labels, names = embed_latents(art["test_latents"], art["test_labels"], method="tsne", max_points=80)
    again, _, _ = embed_latents(art["test_latents"], art["test_labels"], method="tsne", max_points=80)
    assert coords.shape == (80, 2) and labels.shape == (80,) and names == ("t-SNE 1", "t-SNE 2")
    np.testing.assert_allclose(coords, again)
    with pytest.raises(ValueError, match="umap"):
        embed_latents(art["test_latents"], art["test_labels"], method="umap")


def test_pca_axis_names_give_the_explained_variance():
    art = make_artifacts(np.random.default_rng(0))
    coords, _, names = embed_latents(art["test_latents"], art["test_labels"])
    assert coords.shape == (300, 2) and names[0].startswith("PC1 (") and "variance" in names[1]


def test_many_classes_get_a_colorbar_instead_of_a_legend(tmp_path):
    rng = np.random.default_rng(0)
    path = figures.plot_latents(rng.normal(size=(404, 20)), np.arange(404) % 101, tmp_path / "many.png")
    assert_valid_png(path, figsize_px("latents"))


def test_reproduce_figure_is_drawn_from_the_summary(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(make_summary()))
    written = write_reproduce_figures(tmp_path)
    assert list(written) == ["trial_metrics"]
    assert_valid_png(written["trial_metrics"], figsize_px("trial_metrics"))


def test_reproduce_figures_need_a_summary(tmp_path):
    with pytest.raises(RunDirError, match="rae reproduce"):
        write_reproduce_figures(tmp_path)


def test_artifact_completions_keep_the_protocol_order_and_method_names():
    art = {"completion_map": 1, "completion_one_pass": 2, "completion_prior_search": 3, "images": 4}
    assert list(artifact_completions(art).items()) == [("one-pass", 2), ("prior-search", 3), ("map", 1)]
    assert completion_rows(0, artifact_completions(art), 5)[1] == [
        "masked input", "one-pass\ncompletion", "prior-search\ncompletion", "map\ncompletion", "truth"]
