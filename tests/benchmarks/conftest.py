"""The scripts under benchmarks/ are not a package; load them by path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_script(relative: str):
    path = BENCHMARKS / relative
    if str(BENCHMARKS) not in sys.path:  # the scripts import their sibling machine_peak
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmarks_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
