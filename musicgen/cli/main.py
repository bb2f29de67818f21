"""The ``musicgen`` command line: a thin shell over the library.

Heavy libraries (torch, music21) are imported inside commands, so ``--help``
stays instant. Every :class:`MusicgenError` becomes a one-line message and
exit status 1; click's own usage errors exit with status 2.
"""

from __future__ import annotations

import sys

import click

from musicgen.cli.util import OneLineGroup


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="musicgen")
def main() -> None:
    """Learn folk music in ABC notation and compose new tunes.

    Start with 'musicgen generate' (uses the bundled model), or train your own
    model with 'musicgen train'. Each command has its own --help.
    """


def _add_commands() -> None:
    from musicgen.cli import generate, lab, serve, train, tunes
    from musicgen.cli.sentiment import sentiment
    from musicgen.cli.translate import translate

    for command in (
        tunes.corpus,
        train.train,
        train.plot,
        serve.serve,
        lab.lab,
        generate.generate,
        tunes.convert,
        tunes.harmonize,
        tunes.play,
        train.export,
        tunes.evaluate,
        sentiment,
        translate,
    ):
        main.add_command(command)


_add_commands()

if __name__ == "__main__":
    sys.exit(main())
