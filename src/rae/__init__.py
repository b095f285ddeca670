"""rae: the Regularized Autoencoder baseline of Ororbia & Kifer (2022)."""

__version__ = "0.1.0"
