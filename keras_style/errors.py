"""User-facing errors.  Each message is one sentence that names the offending file or flag;
the command-line tools print it and exit with code 2 (no traceback)."""


class KerasStyleError(ValueError):
    """Base class of the package's user-facing errors."""


class UsageError(KerasStyleError):
    """A problem with the command line or its inputs."""


class ImageError(KerasStyleError):
    """An image file that is missing, unreadable, too small, or an unusable output path."""


class DataError(KerasStyleError):
    """A training-data folder that is missing or holds no usable images."""


class WeightsError(KerasStyleError):
    """Weights that cannot be fetched, fail verification, or do not fit the architecture."""


class OutputError(KerasStyleError):
    """An output the command refuses to write: it is an input, it would replace a file of
    another kind, two inputs would land on it, or its folder is missing or unwritable."""


class WriteError(OSError, KerasStyleError):
    """A write that failed part-way (disk full, read-only file system, closed pipe).

    It is also an :class:`OSError` (with the original ``errno``), so code that catches
    ``OSError`` around a write keeps working; the command-line tools print its one
    sentence.  Nothing is left behind: the file it was writing keeps its old content."""

    def __str__(self):
        return str(self.args[0]) if self.args else super().__str__()
