"""The trained RAE as numpy callables in inference mode, as the metrics take it.

Every metric sees BatchNorm's moving statistics and no Dropout
(`../shared/PROTOCOL.md`): `predict` runs the model with `training=False`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from rae.model.rae import decoder_of, encoder_of

# Large batches amortize dispatch; memory stays small (a 784-wide float32 row is 3 KB).
INFERENCE_BATCH = 2000


def predict_in_chunks(model: keras.Model, x: np.ndarray, batch_size: int = INFERENCE_BATCH) -> np.ndarray:
    """`model.predict(x)` without its per-call data pipeline, callbacks and progress bar.

    `predict_on_batch` runs the same compiled inference function, so the outputs are
    identical; over chunks of one fixed size it compiles at most twice (the last chunk
    may be shorter). Measured on MNIST: 20 iterative-completion passes over the test set
    in 4.3 s instead of 6.2 s (JAX), 5.2 s instead of 8.6 s (TensorFlow).
    """
    x = np.asarray(x, dtype=np.float32)
    chunks = [keras.ops.convert_to_numpy(model.predict_on_batch(x[start:start + batch_size]))
              for start in range(0, len(x), batch_size)]
    if not chunks:
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    return np.concatenate(chunks)


@dataclass(frozen=True)
class InferenceModel:
    encoder: keras.Model
    decoder: keras.Model

    @classmethod
    def from_autoencoder(cls, autoencoder: keras.Model) -> InferenceModel:
        return cls(encoder_of(autoencoder), decoder_of(autoencoder))

    @classmethod
    def load(cls, checkpoint: str | Path) -> InferenceModel:
        return cls.from_autoencoder(keras.saving.load_model(checkpoint, compile=False))

    def encode(self, x: np.ndarray) -> np.ndarray:
        return predict_in_chunks(self.encoder, x)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return predict_in_chunks(self.decoder, z)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(x))
