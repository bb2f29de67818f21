"""``musicgen corpus``, ``convert``, ``play`` and ``evaluate``: commands that read tunes."""

from __future__ import annotations

from pathlib import Path

import click

from musicgen.cli.options import ACCOMPANIMENT_OPTIONS, config_options
from musicgen.cli.util import user_errors as _user_errors
from musicgen.errors import MusicgenError
from musicgen.render.midi import Sound


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--show-skipped", is_flag=True, help="List every skipped tune with its reason.")
@_user_errors
def corpus(paths: tuple[Path, ...], show_skipped: bool) -> None:
    """Summarise a corpus: tunes per source and split, skips, vocabulary, lengths.

    PATHS are .abc files or folders; without any, the default corpus (the folk
    collections bundled with music21) is read.
    """
    from musicgen.abc.corpus import load_corpus
    from musicgen.cli.report import corpus_report

    loaded = load_corpus(list(paths) or None)
    click.echo(corpus_report(loaded))
    if show_skipped:
        for item in loaded.skipped:
            click.echo(f"  skipped {item}")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "formats",
    default="mid,wav",
    show_default=True,
    help="Any of mid, wav, musicxml (for notation programs), svg, png and pdf (sheet music), roll (piano roll, "
    ".roll.png), abc.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the files [default: beside SOURCE, in SOURCE-STEM/ for a tunebook].",
)
@click.option(
    "--instrument",
    default="piano",
    show_default=True,
    help="General MIDI instrument: a name (fiddle, flute, whistle...) or 0-127.",
)
@click.option(
    "--bpm", type=float, default=None, help="Tempo in quarter notes per minute, 4 to 1000 [default: Q: or 120]."
)
@click.option(
    "--renderer",
    type=click.Choice(["auto", "soundfont", "additive"]),
    default="auto",
    show_default=True,
    help="Audio: SoundFont synthesis (midirenderer), or pure-numpy additive synthesis.",
)
@config_options(Sound, only=ACCOMPANIMENT_OPTIONS)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@_user_errors
def convert(source, formats, out_dir, instrument, bpm, renderer, force, **accompaniment) -> None:
    """Convert an ABC tunebook to MIDI, WAV, MusicXML and pictures, or a MIDI file to WAV.

    Every tune of a tunebook becomes NN-title.mid and .wav (and .musicxml,
    .svg, .png, .roll.png with --to), converted on every core; a tune that cannot be
    converted is reported with its reason and the others still convert. A
    .mid SOURCE is rendered to a .wav beside it.

    \b
    Bounds, checked before any work: tunebooks of at most 128 MB, tunes of
    at most 100,000 characters, MIDI files of at most 4 MB and 100,000
    notes, and at most 10 minutes of sound per tune or MIDI file.
    """
    from musicgen.limits import check_tempo
    from musicgen.render.convert import check_formats

    check_tempo(bpm, "--bpm")
    if source.suffix.lower() in (".mid", ".midi"):
        from musicgen.render.audio import midi_to_wav

        target = (out_dir or source.parent) / (source.stem + ".wav")
        if target.exists() and not force:
            raise MusicgenError(f"{target}: already exists (use --force to overwrite)")
        used = midi_to_wav(source, target, renderer=renderer)
        click.echo(f"wrote {target} (audio by {used})")
        return
    from musicgen.render.output import save_tunes

    formats = check_formats(formats.split(","))
    sound = Sound(instrument, bpm, **accompaniment)
    sound.check()
    tunes = _tunes_to_render(source)
    out_dir = out_dir or source.parent / source.stem
    saved = save_tunes(tunes, out_dir, force=force, formats=formats, sound=sound, progress=True)
    for stem, reason in saved.failed:
        click.echo(f"  not converted: {stem}: {reason}", err=True)
    converted = len(tunes) - len(saved.failed)
    audio = f", audio by {saved.renderer}" if saved.renderer else ""
    click.echo(f"converted {converted} of {len(tunes)} tunes to {out_dir}/ ({len(saved.paths)} files{audio})")
    if saved.failed:
        raise MusicgenError(f"{len(saved.failed)} tune(s) could not be converted (listed above)")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Tunebook to write [default: SOURCE-STEM.chords.abc beside SOURCE].",
)
@click.option("--replace", is_flag=True, help="Harmonise tunes that have chord symbols too, dropping theirs.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@_user_errors
def harmonize(source, out, replace, force) -> None:
    """Add chord symbols to the melodies of an ABC tunebook.

    Each tune gets a chord at every change of harmony, chosen from its key's
    triads and dominant seventh for each half bar (a bar in 3/4 and 2/4) and
    written before the note where it starts; 'musicgen convert' and
    'musicgen play' then play them as bass and chords. Tunes that already
    have chord symbols are kept as they are (see --replace). The tunes are
    written in musicgen's normalised ABC (music fields and the body).
    """
    from musicgen.abc.harmony import harmonize_tune
    from musicgen.files import atomic_write

    out = out or source.parent / f"{source.stem}.chords.abc"
    if out.exists() and not force:
        raise MusicgenError(f"{out}: already exists (use --force to overwrite)")
    tunes = _tunes_to_render(source)
    written, kept = [], 0
    for tune in tunes:
        try:
            written.append(harmonize_tune(tune, replace=replace).abc)
        except MusicgenError as error:
            click.echo(f"  not harmonised: X:{tune.number} ({tune.title}): {error}", err=True)
            written.append(tune.abc)
            kept += 1
    try:
        atomic_write(out, lambda file: file.write("\n".join(written).encode("utf-8")))
    except OSError as error:
        raise MusicgenError(f"{out}: cannot write ({error.strerror or error})") from None
    click.echo(f"harmonised {len(tunes) - kept} of {len(tunes)} tunes into {out}")


@click.command()
@click.argument("source", required=False, type=click.Path(path_type=Path))
@click.option("--port", default=None, help="MIDI output port name (see --list-ports).")
@click.option("--list-ports", is_flag=True, help="List MIDI output ports and exit.")
@click.option("--audio", is_flag=True, help="Play through the sound card even if a MIDI port exists.")
@_user_errors
def play(source, port, list_ports, audio) -> None:
    """Play an ABC tune (the first of a tunebook) or a MIDI file.

    Sends the notes to a MIDI output port (needs python-rtmidi) or, without
    one, plays rendered audio on the sound card. Ctrl-C stops and silences.
    """
    from musicgen.render.playback import list_ports as port_names
    from musicgen.render.playback import play as play_file

    if list_ports:
        names = port_names()
        click.echo("\n".join(names) if names else "no MIDI output ports")
        return
    if source is None:
        raise click.UsageError("give a .abc or .mid file to play (or --list-ports)")

    def show(where: str, seconds: float) -> None:
        click.echo(f"playing {source.name} on {where} ({seconds:.1f} s); Ctrl-C stops")

    try:
        play_file(source, port, use_port=False if audio else None, on_start=show)
    except KeyboardInterrupt:
        click.echo("stopped")


@click.command()
@click.argument("tunebook", type=click.Path(path_type=Path))
@click.option(
    "--against",
    type=click.Path(path_type=Path),
    default=None,
    help="A reference tunebook for the population comparison.",
)
@click.option(
    "--novelty/--no-novelty",
    default=True,
    show_default=True,
    help="Compare with the training split of the default corpus (or --train).",
)
@click.option(
    "--train",
    "train_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Training tunes for the novelty figures (repeatable) [default: default corpus, train split].",
)
@click.option(
    "--abc2midi/--no-abc2midi",
    "use_abc2midi",
    default=True,
    show_default=True,
    help="Count abc2midi's errors, where it is installed.",
)
@click.option("--per-tune", is_flag=True, help="Also print a line per tune.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (per tune and summary) instead of a table.")
@_user_errors
def evaluate(tunebook, against, novelty, train_paths, use_abc2midi, per_tune, as_json) -> None:
    """Score a tunebook: well-formed, bar lengths, key, structure, novelty.

    Works on generated and real tunebooks alike. Novelty is measured against
    the training split of the default corpus: the share of bars (6+
    characters) found verbatim there, the longest run of consecutive bars
    shared with one training tune, and the nearest training tune. abc2midi
    runs on each tune with at most 512 MB and 10 s; a crash or time-out
    counts as an error of that tune.
    """
    import json

    from musicgen.cli.report import evaluation_table
    from musicgen.evaluation.evaluate import NoveltyIndex, evaluate_tunes

    tunes = _read_book(tunebook)
    reference = _read_book(against) if against else None
    index = None
    if novelty:
        from musicgen.abc.corpus import load_corpus

        click.echo("reading the training tunes for novelty...", err=True)
        corpus = load_corpus(list(train_paths) or None)
        index = NoveltyIndex(corpus.split("train") if not train_paths else corpus.tunes, progress=True)
    result = evaluate_tunes(tunes, reference, index, use_abc2midi, progress=True)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(evaluation_table(result, per_tune))


def _tunes_to_render(source: Path) -> list:
    """A tunebook's tunes, voices kept; each tune left out is reported on stderr.

    Raises:
        MusicgenError: the file cannot be read or holds no usable tune.
    """
    from musicgen.abc.tunebook import parse_tunebook, read_abc_file

    tunes, skipped = parse_tunebook(read_abc_file(source), source.name, voices=True)
    for item in skipped:
        click.echo(f"  skipped {item}", err=True)
    if not tunes:
        raise MusicgenError(f"{source}: no usable tune")
    return tunes


def _read_book(path: Path) -> list:
    from musicgen.abc.tunebook import parse_tunebook, read_abc_file

    tunes, skipped = parse_tunebook(read_abc_file(path), path.name)
    if not tunes:
        why = f" ({len(skipped)} skipped; the first: {skipped[0].reason})" if skipped else ""
        raise MusicgenError(f"{path}: no usable tune{why}")
    return tunes
