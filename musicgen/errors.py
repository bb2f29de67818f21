"""The one error family musicgen raises for problems a user can fix."""


class MusicgenError(Exception):
    """A problem with the user's input, files or options.

    The CLI turns it into a one-line message and a non-zero exit; library
    callers catch it to tell user mistakes apart from bugs.
    """


class OptionError(MusicgenError, ValueError):
    """An option value outside what it can be (a tempo of 0, a meter of 7/0, n of -1).

    The CLI answers it like click's own usage errors: one line, exit status 2.
    """


class CorpusError(MusicgenError):
    """A corpus or tunebook that cannot be read or holds no usable tune."""


class CheckpointError(MusicgenError):
    """A checkpoint file that is missing, corrupt or of another format."""


class SamplingError(OptionError):
    """Impossible sampling options, such as a prime the model cannot read."""


class ConversionError(MusicgenError):
    """A tune that cannot be turned into notes, MIDI or audio."""
