"""Thin command-line wrappers over the library calls."""
