"""Errors a user can act on. The CLI prints them in one line, without a traceback."""


class A2JError(Exception):
    """Base class of every error that is the input's fault, not a bug."""


class InputError(A2JError, ValueError):
    """Malformed input: wrong shape, encoding, NaNs where values are needed, bad ROI."""


class CheckpointError(A2JError):
    """A checkpoint file is missing, truncated, corrupt or of an unknown format."""


class DatasetError(A2JError):
    """A dataset file is missing or corrupt; the message names the file."""
