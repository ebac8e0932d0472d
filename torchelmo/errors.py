"""Every exception torchelmo raises for problems a user can fix, and the CLI exit status of each.

``torchelmo`` prints an :class:`ElmoError` as one line and exits with the class's
``exit_code`` (2 unless stated). Library messages name no command-line flag: an error that
a setting would fix carries a ``hint`` (a key of :data:`HINTS`); ``str(error)`` adds the
library's wording, and the CLI its own, naming the flag.
"""
from typing import Dict, Optional, Tuple

# hint key -> what a library caller should do
HINTS: Dict[str, str] = {
    "resume": "finish it with resume=True",
    "overwrite": "pass overwrite=True to replace it",
    "resume_or_overwrite": "finish it with resume=True or start over with overwrite=True",
    "train_resume": "continue it with resume=True",
    "train_resume_or_elsewhere": "continue it with resume=True, or choose another output directory",
    "errors": "use errors='replace' or errors='skip'",
    "blank_lines": "remove them or use blank_lines='skip' or 'empty'",
    "max_sentence_length": "split long sentences or raise max_sentence_length",
    "model_files": "or download the files elsewhere and pass options_file= and weight_file=",
    "sentence_keys": "key the datasets by line index instead (use_sentence_keys=False)",
    "batch_size": "use a smaller batch size",
    "warmup_text": "pass warmup_text= (a file of tokenized sentences), or use state='zero'",
}


class ElmoError(Exception):
    """Base class: a clear, one-line problem with the user's files, options or input."""

    exit_code = 2

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}; {HINTS[self.hint]}" if self.hint else self.message


class ConfigurationError(ElmoError):
    """Options that are invalid, or that do not match the weights.

    ``settings``: the names of the settings (parameter names, such as ``batch_size``) that the
    message mentions; the CLI writes each as its flag (``--batch-size``)."""

    def __init__(self, message: str, hint: Optional[str] = None, settings: Tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.settings = settings


class WeightFileError(ElmoError):
    """A weight file that is missing, unreadable or not in the ELMo layout."""


class InputError(ElmoError):
    """Input text that cannot be embedded (blank lines, bad encoding, ...)."""


class InputChangedError(InputError):
    """An input file replaced or rewritten while a command was reading it."""


class TokensError(InputError, TypeError):
    """A sentence given as a string where a list of tokens is expected."""


class OutputError(ElmoError):
    """An output that cannot be written: no space, read-only, permission, name too long, ...

    ``path`` is the file or folder that could not be written."""

    def __init__(self, message: str, path: str, hint: Optional[str] = None) -> None:
        super().__init__(message, hint)
        self.path = path


class OutputExistsError(ElmoError):
    """An output that exists (or an interrupted run's partial output) and would be replaced."""


class ResumeError(ElmoError):
    """An interrupted run that cannot be resumed as asked (other settings, unreadable record)."""


class LockedError(ElmoError):
    """Another process is writing the same output now."""


class ModelDownloadError(ElmoError):
    """A published model could not be downloaded or is not a valid ELMo model."""


class Interrupted(ElmoError):
    """A run stopped before the end (Ctrl-C, a signal, a full disk); ``exit_code`` 130 when a
    signal stopped it."""

    def __init__(self, message: str, hint: Optional[str] = None, signalled: bool = False) -> None:
        super().__init__(message, hint)
        self.exit_code = 130 if signalled else 2


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so that ``finally`` blocks clean up."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


class ConcurrentUseError(ElmoError, RuntimeError):
    """An object that carries state between calls, used by two threads at once."""


class HardwareError(ElmoError):
    """This machine cannot run a requested mode (bf16, int8, compile, a CUDA device)."""
