"""Training the RAE with Keras `fit`: one trainer, every artefact in the run directory."""

from rae.training.trainer import TrainResult, build_compiled_model, train

__all__ = ["TrainResult", "build_compiled_model", "train"]
