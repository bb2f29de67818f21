"""The one error family musicgen raises for problems a user can fix."""


class MusicgenError(Exception):
    """A problem with the user's input, files or options.

    The CLI turns it into a one-line message and a non-zero exit; library
    callers catch it to tell user mistakes apart from bugs.
    """


class CorpusError(MusicgenError):
    """A corpus or tunebook that cannot be read or holds no usable tune."""


class CheckpointError(MusicgenError):
    """A checkpoint file that is missing, corrupt or of another format."""


class SamplingError(MusicgenError):
    """Impossible sampling options, such as a prime the model cannot read."""


class ConversionError(MusicgenError):
    """A tune that cannot be turned into notes, MIDI or audio."""
