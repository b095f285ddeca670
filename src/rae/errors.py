"""Errors that reach the user as one line and a non-zero exit.

Anything raised as a `RaeError` is the user's to fix (bad input, missing files,
an existing run directory); the CLI prints its message alone, without a
traceback. Every other exception is a bug and keeps its traceback.
"""


class RaeError(Exception):
    """Base class: a problem with the user's input, reported in one line."""


class ConfigError(RaeError):
    """A config value that makes no sense (e.g. a learning rate of 0)."""


class DataError(RaeError):
    """A data file that is missing, corrupt or fails its checksum."""


class ChecksumError(DataError):
    """A data file whose content does not match its known checksum."""


class RunDirError(RaeError):
    """A run directory that is missing, incomplete, or already exists."""


class TrainingDivergedError(RaeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""
