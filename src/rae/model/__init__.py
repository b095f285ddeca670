"""The seed's Regularized Autoencoder, built with Keras 3 APIs only."""

from rae.model.rae import build_autoencoder, build_decoder, build_encoder, summed_bce

__all__ = ["build_autoencoder", "build_decoder", "build_encoder", "summed_bce"]
