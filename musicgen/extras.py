"""Optional parts of musicgen: which extra installs a package, and a one-line error where it is missing."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

from musicgen.errors import MusicgenError

#: Import name -> (pip extra that installs it, what it is needed for).
EXTRAS = {
    "midirenderer": ("audio", "WAV audio"),
    "pretty_midi": ("audio", "WAV audio"),
    "verovio": ("sheet", "sheet music"),
    "cairosvg": ("sheet", "PNG sheet music"),
    "matplotlib": ("plots", "plots and piano rolls"),
    "music21": ("corpus", "the default corpus (music21's folk collections) and MusicXML"),
    "starlette": ("web", "the web page"),
    "uvicorn": ("web", "the web page"),
    "rtmidi": ("play", "playing to a MIDI port"),
    "sounddevice": ("play", "playing through the sound card"),
    "sacrebleu": ("text", "BLEU scores"),
    "sentencepiece": ("text", "translation's subword vocabulary"),
}


class MissingExtraError(MusicgenError):
    """An optional package a command needs is not installed."""


def need(name: str) -> ModuleType:
    """Import the optional package ``name``, or say in one line which extra installs it.

    Raises:
        MissingExtraError: the package is not installed (or cannot load).
    """
    try:
        return import_module(name)
    except ImportError as error:
        extra, purpose = EXTRAS[name.split(".")[0]]
        raise MissingExtraError(
            f"{purpose} needs {name.split('.')[0]}, which is not installed or does not load ({error}); "
            f"install it with: pip install 'musicgen[{extra}]'"
        ) from None


def available(extra: str) -> bool:
    """True when every package of ``extra`` is installed (found, not imported)."""
    return all(_found(name) for name, (which, _) in EXTRAS.items() if which == extra)


def require(extra: str, purpose: str) -> None:
    """Check, without importing, that the packages of ``extra`` are installed.

    Raises:
        MissingExtraError: one is not; the message names the extra to install.
    """
    if not available(extra):
        missing = [name for name, (which, _) in EXTRAS.items() if which == extra and not _found(name)]
        raise MissingExtraError(f"{purpose} need {', '.join(missing)}, not installed: pip install 'musicgen[{extra}]'")


def _found(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False
