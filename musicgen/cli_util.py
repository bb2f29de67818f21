"""Small helpers shared by the CLI modules (kept apart so each group can use them)."""

from __future__ import annotations

from functools import wraps
from pathlib import Path

import click

from musicgen.errors import MusicgenError


def user_errors(command):
    """Turn MusicgenError into a clean one-line message and exit status 1."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except MusicgenError as error:
            raise click.ClickException(str(error)) from None

    return wrapper


def build_config(cls, **values):
    """``cls(**values)``, with a bad value reported as a usage error (exit status 2)."""
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error)) from None


def check_new_file(path: Path, force: bool) -> None:
    """Refuse to replace an existing file without --force, before any work starts."""
    if path.exists() and not force:
        raise MusicgenError(f"{path} exists; pass --force to replace it")
    if path.exists() and path.is_dir():
        raise MusicgenError(f"{path} is a folder, not a file")


def input_lines(texts: tuple[str, ...], file: click.File | None) -> list[str]:
    """Sentences from arguments, else from --file (``-`` is stdin), else from stdin."""
    if texts:
        return list(texts)
    stream = file if file is not None else click.get_text_stream("stdin")
    return [line.rstrip("\n") for line in stream]


def threads_option(command):
    """A --threads option for commands that train (0 leaves torch's default)."""
    return click.option("--threads", type=click.IntRange(0, 256), default=0, show_default=True,
                        help="CPU threads for torch (0: torch's default, one per core).")(command)


def set_threads(threads: int) -> None:
    """Limit torch's CPU threads, e.g. to share a machine with other work."""
    if threads:
        import torch

        torch.set_num_threads(threads)
