"""Small helpers shared by the CLI modules (kept apart so each group can use them)."""

from __future__ import annotations

import sys
from functools import wraps
from pathlib import Path
from typing import TextIO

import click

from musicgen.errors import MusicgenError, OptionError

_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click 8.2 and newer


class OneLineGroup(click.Group):
    """A command group whose every error is one line on stderr.

    Exit status 1: a problem with the user's files or input (``MusicgenError``,
    ``OSError``); 2: a bad option or value (click's usage errors and
    :class:`~musicgen.errors.OptionError`).
    """

    def main(self, *args, **kwargs):
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as error:  # a bare 'musicgen' or 'musicgen sentiment': the help, as click shows it
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            _fail(error.format_message(), 2)
        except click.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int):
    text = " ".join(str(message).split()) or "failed"
    click.echo(f"Error: {text}", err=True)
    sys.exit(code)


def user_errors(command):
    """Turn MusicgenError and OSError into one-line messages (exit 1; bad values exit 2)."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except OptionError as error:
            raise click.UsageError(str(error)) from None
        except MusicgenError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:  # the machine's answer: a read-only folder, a full disk
            raise click.ClickException(os_error_message(error)) from None

    return wrapper


def os_error_message(error: OSError) -> str:
    """``PATH: reason`` for an OSError, without Python's decoration."""
    where = error.filename or ""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{where}: {reason}" if where else reason


def build_config(cls, **values):
    """``cls(**values)``, with a bad value reported as a usage error (exit status 2)."""
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error)) from None


def check_new_file(path: Path, force: bool) -> None:
    """Refuse to replace an existing file or saved model folder without --force, before any work starts."""
    if path.exists() and not force:
        raise MusicgenError(f"{path} exists; pass --force to replace it")
    if path.is_dir():
        from musicgen.model.persistence import is_pretrained

        if not is_pretrained(path):
            raise MusicgenError(f"{path} is a folder, not a file or a saved model")


def input_lines(texts: tuple[str, ...], file: TextIO | None) -> list[str]:
    """Sentences from arguments, else from --file (``-`` is stdin), else from stdin (also for a lone ``-``)."""
    if texts and tuple(texts) != ("-",):
        return list(texts)
    stream = file if file is not None else click.get_text_stream("stdin")
    return [line.rstrip("\n") for line in stream]


def threads_option(command):
    """A --threads option for commands that train (0 leaves torch's default)."""
    return click.option(
        "--threads",
        type=click.IntRange(0, 256),
        default=0,
        show_default=True,
        help="CPU threads for torch (0: torch's default, one per core).",
    )(command)


def set_threads(threads: int) -> None:
    """Limit torch's CPU threads, e.g. to share a machine with other work."""
    if threads:
        import torch

        torch.set_num_threads(threads)
