"""``musicgen generate``: compose new tunes with a trained model."""

from __future__ import annotations

from pathlib import Path

import click

from musicgen.abc.codes import STYLES, form_option
from musicgen.cli.options import ACCOMPANIMENT_OPTIONS, config_options
from musicgen.cli.util import user_errors as _user_errors
from musicgen.errors import OptionError
from musicgen.model.config import SampleConfig
from musicgen.render.midi import Sound


@click.command()
@click.option(
    "-n", "count", type=int, default=4, show_default=True, help="How many tunes (sampled --batch-size at a time)."
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Checkpoint or training run folder [default: the bundled model].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the tunes [default: outputs/generate-DATE-TIME].",
)
@config_options(SampleConfig, defaults_from_model=True)
@click.option("--prime", default=None, help="Text every tune starts with, e.g. 'T:My Jig\\nR:jig\\n'.")
@click.option("--key", default=None, help="Write K: for you, e.g. Dmix, Ador, G.")
@click.option("--meter", default=None, help="Write M: for you, e.g. 6/8.")
@click.option("--title", default=None, help="Write T: for you.")
@click.option("--type", "tune_type", default=None, help="Write R: for you, e.g. jig, reel, hornpipe, slip jig.")
@click.option(
    "--style",
    default=None,
    help="Write the style code O: for you: " + ", ".join(STYLES) + " (the traditions of the default corpus).",
)
@click.option(
    "--form",
    default=None,
    help="Write the form code N: for you: the parts in order, a letter twice for a repeated part (AABB, "
    "AB, AABBCC, ABC), or 'any' for the model to choose [default: AABB with 8-bar parts when no --type, "
    "--meter, --style or --prime says what kind of tune; else as training had it for those].",
)
@click.option(
    "--part-bars",
    type=int,
    default=None,
    help="Bars in each part of --form (1-64; 8 for a reel or jig) [default: the model's choice].",
)
@click.option(
    "--formats",
    default=None,
    help="Files to write for each tune: any of abc, mid, wav, musicxml (for notation programs), svg, png and pdf "
    "(sheet music), roll (piano roll, .roll.png) [default: abc,mid,wav; abc,mid without the audio extra].",
)
@click.option("--sheet", is_flag=True, help="Also engrave sheet music (.svg and .png); same as adding svg,png.")
@click.option(
    "--instrument",
    default="piano",
    show_default=True,
    help="General MIDI instrument for .mid/.wav: a name (fiddle, flute...) or 0-127.",
)
@click.option(
    "--bpm",
    type=float,
    default=None,
    help="Tempo in quarter notes per minute, 4 to 1000 [default: the tune's Q: or 120]; a tune that "
    "would sound longer than 10 minutes is not converted.",
)
@click.option(
    "--batch-size",
    type=int,
    default=64,
    show_default=True,
    help="Tunes sampled together; larger -n runs are written batch by batch.",
)
@click.option(
    "--int8/--float32",
    "int8",
    default=None,
    help="Weights for sampling: int8 (1.3x faster batches, +0.02% bits/char; the default on "
    "CPUs with PyTorch's int8 kernels) or float32 (the model exactly).",
)
@click.option(
    "--chords",
    is_flag=True,
    help="Harmonise each tune: write chord symbols into its ABC, played as bass and chords (see 'musicgen harmonize').",
)
@config_options(Sound, only=ACCOMPANIMENT_OPTIONS)
@click.option("--force", is_flag=True, help="Overwrite files already in --out.")
@_user_errors
def generate(
    count,
    model_path,
    out_dir,
    prime,
    key,
    meter,
    title,
    tune_type,
    style,
    form,
    part_bars,
    formats,
    sheet,
    instrument,
    bpm,
    batch_size,
    int8,
    chords,
    accompaniment,
    chord_instrument,
    bass_instrument,
    force,
    **settings,
) -> None:
    """Compose new tunes in ABC notation, with MIDI and audio of each.

    With no options, writes dance tunes of two 8-bar parts, each repeated
    (--form AABB --part-bars 8), in the styles and types the model learnt for
    that form. Writes each tune as NN-title.abc, .mid and .wav (see --formats) and all of
    them as tunebook.abc, then prints where they are. A tune that cannot be
    turned into MIDI keeps its .abc and is reported. Sampling options left out
    take the model's recommended settings (saved with it).
    """
    from musicgen.limits import check_tempo
    from musicgen.model.lm import load_model
    from musicgen.render.convert import check_formats
    from musicgen.render.output import new_run_dir, save_tune_stream
    from musicgen.sampling.familiar import unfamiliar
    from musicgen.sampling.sampler import generate_batches, header_fields

    formats = check_formats(_default_formats(formats).split(",") + (["svg", "png"] if sheet else []))
    check_tempo(bpm, "--bpm")
    sound = Sound(instrument, bpm, accompaniment, chord_instrument, bass_instrument)
    sound.check()  # fail before sampling, not after
    if count < 1:
        raise OptionError(f"-n must be at least 1, not {count}")
    settings = {name: value for name, value in settings.items() if value is not None}
    SampleConfig.checked(**settings)  # the values given, checked before the model loads
    kind_given = any(value is not None for value in (tune_type, meter, style, prime))
    header = header_fields(
        key=key,
        meter=meter,
        title=title,
        tune_type=tune_type,
        style=style,
        form=form_option(form, part_bars, kind_given),
    )
    prime = prime.replace("\\n", "\n") if prime else None
    model = load_model(model_path)
    for note in unfamiliar(model.header_counts, header):
        click.echo(f"note: {note}", err=True)
    if int8 is None:
        from musicgen.model.stepper import int8_available

        int8 = int8_available()
    batches = generate_batches(
        model, count, batch_size, prime=prime, header=header, int8=int8, progress=True, **settings
    )
    if chords:
        batches = ([tune.harmonized() for tune in batch] for batch in batches)
    listing = _Listing()
    out_dir = out_dir or new_run_dir(Path("outputs"), "generate")
    saved = save_tune_stream(
        listing.note(batches),
        count,
        out_dir,
        force=force,
        formats=formats,
        sound=sound,
        progress=True,
    )
    listing.show(count)
    for stem, reason in saved.failed:
        click.echo(f"  not converted: {stem}: {reason}", err=True)
    note = f" ({listing.cut} cut off at --max-length)" if listing.cut else ""
    audio = f", audio by {saved.renderer}" if saved.renderer else ""
    click.echo(f"wrote {count} tunes{note} to {out_dir}/ ({len(saved.paths)} files{audio})")


class _Listing:
    """The first 20 tunes' numbers and titles, and how many were cut off, noted as batches pass."""

    SHOWN = 20

    def __init__(self) -> None:
        self.shown: list[tuple[int, str]] = []
        self.cut = 0

    def note(self, batches):
        for tunes in batches:
            self.cut += sum(not t.complete for t in tunes)
            self.shown.extend((t.number, t.title) for t in tunes[: max(0, self.SHOWN - len(self.shown))])
            yield tunes

    def show(self, count: int) -> None:
        for number, title in self.shown:
            click.echo(f"  {number:>3}  {title or '(untitled)'}")
        if count > len(self.shown):
            click.echo(f"  ... and {count - len(self.shown)} more")


def _default_formats(formats: str | None) -> str:
    """The formats asked for; by default WAV too where the audio extra is installed (else a note says why not)."""
    from musicgen.extras import available

    if formats is not None:
        return formats
    if available("audio"):
        return "abc,mid,wav"
    click.echo("note: no .wav files: WAV audio needs pip install 'musicgen[audio]'", err=True)
    return "abc,mid"
