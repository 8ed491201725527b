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
