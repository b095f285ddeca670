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
        return self.encoder.predict(x, batch_size=INFERENCE_BATCH, verbose=0)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return self.decoder.predict(z, batch_size=INFERENCE_BATCH, verbose=0)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(x))
