"""The paper's table (Ororbia & Kifer 2022; test set, 10 trials, mean and sd).

Copied from `../shared/PROTOCOL.md`. The RAE row is what `rae` reproduces; the
GNCN-PDH row is the paper's best model, the bar beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Metric keys as results.json names them, with the direction that is better.
METRICS: dict[str, str] = {
    "bce": "lower",
    "log_likelihood": "higher",
    "classification_error": "lower",
    "masked_mse": "lower",
}
METRIC_LABELS: dict[str, str] = {
    "bce": "BCE (nats)",
    "log_likelihood": "log p(x) (nats)",
    "classification_error": "%Err",
    "masked_mse": "M-MSE",
}


@dataclass(frozen=True)
class PaperValue:
    mean: float
    sd: float


def _row(bce=None, log_likelihood=None, classification_error=None, masked_mse=None) -> dict[str, PaperValue]:
    values = dict(bce=bce, log_likelihood=log_likelihood, classification_error=classification_error,
                  masked_mse=masked_mse)
    return {key: PaperValue(*value) for key, value in values.items() if value is not None}


PAPER_TABLE: dict[str, dict[str, dict[str, PaperValue]]] = {
    "mnist": {
        "RAE": _row((60.946, 0.58), (-117.009, 0.181), (11.99, 0.47), (22.10, 1.44)),
        "GAN-AE": _row((73.54, 3.492), (-94.418, 0.069), (13.03, 1.68), (15.87, 0.24)),
        "GNCN-PDH": _row((44.857, 0.054), (-97.255, 0.084), (2.28, 0.04), (3.04, 0.02)),
        "GMM (pixels)": _row(log_likelihood=(-185.37, 0.47)),
    },
    "fashion-mnist": {
        "RAE": _row((102.723, 0.777), (-138.762, 1.427), (25.14, 0.24), (56.83, 0.73)),
        "GNCN-PDH": _row((90.058, 0.375), (-130.031, 0.162), (17.11, 0.26), (6.01, 0.02)),
    },
    "kmnist": {
        "RAE": _row((175.597, 0.506), (-234.411, 1.173), (39.32, 0.95), (30.69, 0.45)),
        "GNCN-PDH": _row((128.389, 0.23), (-219.82, 0.641), (17.01, 0.32), (8.43, 0.04)),
    },
    # The paper's CalTech numbers are for 16x16 images; ours are 28x28.
    "caltech101-silhouettes": {
        "RAE": _row((40.408, 0.755), (-50.47, 2.073), (38.10, 0.49), (23.56, 0.91)),
    },
}


def paper_rows(dataset: str) -> dict[str, dict[str, PaperValue]]:
    return PAPER_TABLE.get(dataset, {})


def beats(metric: str, ours: float, theirs: float) -> bool:
    return ours < theirs if METRICS[metric] == "lower" else ours > theirs
