"""Exceptions torchelmo raises for problems a user can fix."""


class ElmoError(Exception):
    """Base class: a clear, one-line problem with the user's files, options or input."""


class ConfigurationError(ElmoError):
    """Options that are invalid, or that do not match the weights."""


class WeightFileError(ElmoError):
    """A weight file that is missing, unreadable or not in the ELMo layout."""


class InputError(ElmoError):
    """Input text that cannot be embedded (blank lines, bad encoding, ...)."""


class HardwareError(ElmoError):
    """This machine cannot run a requested mode (bf16, int8, compile, a CUDA device)."""
