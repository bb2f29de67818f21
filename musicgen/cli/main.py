"""The ``musicgen`` command line: a thin shell over the library.

Heavy libraries (torch, music21) are imported inside commands, so ``--help``
stays instant. Every :class:`MusicgenError` becomes a one-line message and
exit status 1; click's own usage errors exit with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from musicgen.cli.util import OneLineGroup
from musicgen.cli.util import user_errors as _user_errors
from musicgen.errors import MusicgenError, OptionError


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="musicgen")
def main() -> None:
    """Learn folk music in ABC notation and compose new tunes.

    Start with 'musicgen generate' (uses the bundled model), or train your own
    model with 'musicgen train'. Each command has its own --help.
    """


@main.command()
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "run_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Run folder for model.pt, last.pt, log.jsonl and curves.png [default: outputs/train-DATE-TIME].",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    help="Continue from a run folder or its last.pt (model options are then ignored).",
)
@click.option("--cell", type=click.Choice(["lstm", "gru", "rnn"]), default="lstm", show_default=True)
@click.option(
    "--nonlinearity", type=click.Choice(["tanh", "relu"]), default="tanh", show_default=True, help="For --cell rnn."
)
@click.option("--identity-init", is_flag=True, help="For --cell rnn: recurrent weights start as the identity.")
@click.option("--hidden-size", type=int, default=512, show_default=True)
@click.option("--num-layers", type=int, default=2, show_default=True)
@click.option("--embedding-size", type=int, default=64, show_default=True)
@click.option("--dropout", type=float, default=0.2, show_default=True)
@click.option("--batch-size", type=int, default=64, show_default=True, help="Tunes per batch.")
@click.option("--seq-len", type=int, default=128, show_default=True, help="Characters per backpropagation window.")
@click.option("--learning-rate", type=float, default=3e-3, show_default=True)
@click.option("--max-steps", type=int, default=5000, show_default=True)
@click.option("--warmup-steps", type=int, default=200, show_default=True)
@click.option("--clip-norm", type=float, default=1.0, show_default=True)
@click.option("--eval-interval", type=int, default=300, show_default=True, help="Steps between validations.")
@click.option(
    "--patience",
    type=int,
    default=5,
    show_default=True,
    help="Validations without improvement before stopping (0: never).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True)
@click.option(
    "--time-limit",
    type=float,
    default=0.0,
    show_default=True,
    help="Minutes of training before stopping (validating and saving first); 0: no limit.",
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default="fp32",
    show_default=True,
    help="bf16: bfloat16 autocast (mixed precision), for GPUs and CPUs with bf16 units "
    "(2.5-2.9x faster on this project's AMX CPU).",
)
@click.option(
    "--tonic",
    default="C",
    show_default=True,
    help="Move every tune to this tonic before training (mode kept: K:Ador becomes K:Cdor), "
    "so every tune ends on the same note; new tunes are moved to the tonics training had. "
    "'none' keeps each tune's key as written.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--force", is_flag=True, help="Replace a run already in --out (its model.pt, last.pt and log).")
@click.pass_context
@_user_errors
def train(ctx, paths, run_dir, resume, quiet, force, **options) -> None:
    """Train a character-level model on ABC tunes.

    PATHS are .abc files or folders; without any, the default corpus is used
    (training split only; validation bits/char is measured on the valid split).
    Ctrl-C stops after the batch under way and saves last.pt; --resume
    continues from it with the run's own corpus and settings, changed only by
    the paths and training options given (model options are ignored). An
    --out folder that already holds a run is refused without --resume or
    --force. Validation runs at every multiple of --eval-interval steps.
    """
    from musicgen.model.config import ModelConfig, TrainConfig
    from musicgen.render.output import new_run_dir
    from musicgen.training.loop import train as train_model

    model_keys = ("cell", "nonlinearity", "identity_init", "hidden_size", "num_layers", "embedding_size", "dropout")
    try:
        model_config = ModelConfig(vocab_size=1, **{k: options.pop(k) for k in model_keys})
        if resume is not None:  # the run's own settings, changed only where an option is given
            options = {
                **_resumed_settings(resume),
                **{
                    k: v
                    for k, v in options.items()
                    if ctx.get_parameter_source(k) is not click.core.ParameterSource.DEFAULT
                },
            }
        if options.get("tonic") == "none":
            options["tonic"] = ""
        train_config = TrainConfig(**options)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    if run_dir is None:
        run_dir = resume if resume is not None and resume.is_dir() else new_run_dir(Path("outputs"), "train")
    click.echo(f"training in {run_dir}", err=True)
    result = train_model(
        list(paths) or None, run_dir, model_config, train_config, resume=resume, progress=not quiet, force=force
    )
    click.echo(
        f"{result.stopped} at step {result.step}: best validation "
        f"{result.best_valid_bpc:.4f} bits/char; model in {result.run_dir / 'model.pt'}"
    )


@main.command()
@click.argument("log", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="PNG to write [default: the run's own curves.png beside the log, redrawn].",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@_user_errors
def plot(log: Path, out: Path | None, force: bool) -> None:
    """Draw training and validation bits/char against steps from a run's log.

    LOG is a run folder or its log.jsonl; 'musicgen train' draws the same
    picture (curves.png) at every validation, and this redraws it.
    """
    from musicgen.cli.util import check_new_file
    from musicgen.files import atomic_write
    from musicgen.render.pictures import training_curves_png

    if out is not None:
        check_new_file(out, force)
    png = training_curves_png(log)
    target = out or (log if log.is_dir() else log.parent) / "curves.png"
    atomic_write(target, lambda file: file.write(png))
    click.echo(f"wrote {target}")


@main.command()
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Checkpoint or run folder [default: the bundled model].",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the default only accepts this computer. Requests must name this "
    "address or a loopback name in their Host header.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("outputs/serve"),
    show_default=True,
    help="Folder for the tunes the page makes (only files the server wrote are served).",
)
@click.option(
    "--disk-limit",
    "disk_limit_mb",
    type=click.IntRange(16, 1_000_000),
    default=512,
    show_default=True,
    help="MB of results kept under --out; the oldest results are removed past it (a tune is about 11 MB).",
)
@_user_errors
def serve(model_path, host, port, out_dir, disk_limit_mb) -> None:
    """Open a local web page to compose, see, hear, edit and download tunes.

    The page generates tunes with the same options as 'musicgen generate',
    shows each as sheet music, plays its audio, re-renders it when you edit
    its ABC, and offers .abc, .mid, .wav and .svg downloads. It works
    offline. Needs the web extra: pip install 'musicgen[web]'.

    \b
    Bounds: 16 tunes a request, 8 requests waiting (then 429), 2 edits
    rendering at once, 64 KB request bodies, --disk-limit of results.
    """
    from musicgen.web.app import is_loopback
    from musicgen.web.app import serve as run_server

    if not is_loopback(host):
        click.echo(
            f"Warning: --host {host} lets other computers on the network use this page; it has no "
            "passwords. Use the default 127.0.0.1 unless you mean that.",
            err=True,
        )
    click.echo(f"musicgen page on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(model_path, host, port, out_dir, disk_limit_mb * 1024 * 1024)


@main.command()
@click.argument("experiment", type=click.Choice(["order", "gradients", "memory", "temperature"]))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for plot.png and table.md [default: outputs/lab/EXPERIMENT].",
)
@click.option("--quick", is_flag=True, help="Tiny settings: seconds instead of minutes, rougher figures.")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="order: a labelled sentence file instead of the word-order sentences made here.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Replace an earlier run's plot.png and table.md.")
@_user_errors
def lab(experiment, out_dir, quick, data, seed, force) -> None:
    """Run one of the lecture's experiments; write a plot and a table; say what they show.

    \b
    order        bag of words vs fixed window vs BiLSTM, and "good, not bad" vs "bad, not good"
    gradients    gradient norm k steps back for RNN (tanh, ReLU, identity), GRU, LSTM; clipping
    memory       accuracy against distance when the answer is k steps back
    temperature  sampling temperature vs bits/char, well-formed and novelty figures
    """
    from musicgen.cli.util import check_new_file
    from musicgen.lab import run_experiment

    if data is not None and experiment != "order":
        raise click.UsageError("--data is for the order experiment")
    folder = out_dir or Path("outputs") / "lab" / experiment
    for name in ("plot.png", "table.md"):  # before minutes of training, not after
        check_new_file(folder / name, force)
    quick_settings: dict[str, dict] = {
        "order": {"epochs": 3},
        "gradients": {"steps": 60, "train_steps": 30},
        "memory": {"distances": (2, 8), "steps": 60},
        "temperature": {"temperatures": (0.5, 1.5), "tunes": 4},
    }
    settings: dict = dict(quick_settings[experiment]) if quick else {}
    if experiment == "gradients":
        settings["progress"] = True
    if data is not None:
        settings["data"] = data
    result = run_experiment(experiment, out_dir, seed=seed, **settings)
    click.echo("\n".join(result.findings))
    click.echo(f"wrote {', '.join(str(path) for path in result.files)}")


def _resumed_settings(resume: Path) -> dict:
    from musicgen.model.checkpoint import load_checkpoint

    data = load_checkpoint(resume / "last.pt" if resume.is_dir() else resume)
    return dict(data.get("train_config") or {})


@main.command()
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
@click.option(
    "--temperature",
    type=float,
    default=0.85,
    show_default=True,
    help="Below 1 is safer (better-formed tunes), above 1 wilder; the library default is 1.0.",
)
@click.option("--top-k", type=int, default=0, show_default=True, help="0 keeps every character.")
@click.option("--top-p", type=float, default=1.0, show_default=True, help="1 keeps every character.")
@click.option("--seed", type=int, default=None, help="Same seed, same tunes.")
@click.option("--prime", default=None, help="Text every tune starts with, e.g. 'T:My Jig\\nR:jig\\n'.")
@click.option("--key", default=None, help="Write K: for you, e.g. Dmix, Ador, G.")
@click.option("--meter", default=None, help="Write M: for you, e.g. 6/8.")
@click.option("--title", default=None, help="Write T: for you.")
@click.option("--type", "tune_type", default=None, help="Write R: for you, e.g. jig, reel.")
@click.option(
    "--header-drafts",
    type=int,
    default=16,
    show_default=True,
    help="With --key/--meter/--type/--title: headers drafted per tune; one is kept, drawn by how "
    "well the lines the model chose fit the ones written for it (1: no drafts).",
)
@click.option(
    "--end-drafts",
    type=int,
    default=4,
    show_default=True,
    help="Whole drafts per tune. The one kept converts, has no D.C./D.S. jump back in its last bar and ends "
    "on its key's tonic where a draft does; among those, it is the one the model is surest has "
    "ended where it ended, so tunes close their last section instead of stopping mid-phrase "
    "(1: no drafts).",
)
@click.option(
    "--bar-tries",
    type=int,
    default=8,
    show_default=True,
    help="Times a bar whose notes do not fill the meter, or that abc2midi would report an error in, "
    "is drawn again (a short bar may still end a section or the tune; 0: bars as the model "
    "first writes them).",
)
@click.option(
    "--max-length",
    type=int,
    default=1500,
    show_default=True,
    help="Characters per tune at most (99.9% of corpus tunes are under 950).",
)
@click.option(
    "--formats",
    default="abc,mid,wav",
    show_default=True,
    help="Files to write for each tune: any of abc, mid, wav, svg and png (sheet music), roll (piano roll, .roll.png).",
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
@click.option("--force", is_flag=True, help="Overwrite files already in --out.")
@_user_errors
def generate(
    count,
    model_path,
    out_dir,
    temperature,
    top_k,
    top_p,
    seed,
    prime,
    key,
    meter,
    title,
    tune_type,
    header_drafts,
    end_drafts,
    bar_tries,
    max_length,
    formats,
    sheet,
    instrument,
    bpm,
    batch_size,
    int8,
    force,
) -> None:
    """Compose new tunes in ABC notation, with MIDI and audio of each.

    Writes each tune as NN-title.abc, .mid and .wav (see --formats) and all of
    them as tunebook.abc, then prints where they are. A tune that cannot be
    turned into MIDI keeps its .abc and is reported.
    """
    from musicgen.limits import check_tempo
    from musicgen.render.convert import check_formats
    from musicgen.render.midi import instrument_program
    from musicgen.render.output import new_run_dir, save_tune_stream
    from musicgen.sampling.sampler import generate_batches, header_fields, load_model

    formats = check_formats(formats.split(",") + (["svg", "png"] if sheet else []))
    instrument_program(instrument)  # fail before sampling, not after
    check_tempo(bpm, "--bpm")
    if count < 1:
        raise OptionError(f"-n must be at least 1, not {count}")
    header = header_fields(key=key, meter=meter, title=title, tune_type=tune_type)
    prime = prime.replace("\\n", "\n") if prime else None
    model = load_model(model_path)
    if int8 is None:
        from musicgen.model.stepper import int8_available

        int8 = int8_available()
    batches = generate_batches(
        model,
        count,
        batch_size,
        seed,
        temperature=temperature,
        prime=prime,
        top_k=top_k,
        top_p=top_p,
        max_length=max_length,
        header=header,
        header_drafts=header_drafts,
        end_drafts=end_drafts,
        bar_tries=bar_tries,
        int8=int8,
        progress=True,
    )
    shown: list[tuple[int, str]] = []
    cut = 0

    def noted(batches):
        nonlocal cut
        for tunes in batches:
            cut += sum(not t.complete for t in tunes)
            shown.extend((t.number, t.title) for t in tunes[: max(0, 20 - len(shown))])
            yield tunes

    out_dir = out_dir or new_run_dir(Path("outputs"), "generate")
    saved = save_tune_stream(
        noted(batches),
        count,
        out_dir,
        force=force,
        formats=formats,
        instrument=instrument,
        tempo_qpm=bpm,
        progress=True,
    )
    for number, title in shown:
        click.echo(f"  {number:>3}  {title or '(untitled)'}")
    if count > len(shown):
        click.echo(f"  ... and {count - len(shown)} more")
    for stem, reason in saved.failed:
        click.echo(f"  not converted: {stem}: {reason}", err=True)
    note = f" ({cut} cut off at --max-length)" if cut else ""
    audio = f", audio by {saved.renderer}" if saved.renderer else ""
    click.echo(f"wrote {count} tunes{note} to {out_dir}/ ({len(saved.paths)} files{audio})")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "formats",
    default="mid,wav",
    show_default=True,
    help="Any of mid, wav, svg and png (sheet music), roll (piano roll, .roll.png), abc.",
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
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@_user_errors
def convert(source, formats, out_dir, instrument, bpm, renderer, force) -> None:
    """Convert an ABC tunebook to MIDI, WAV and pictures, or a MIDI file to WAV.

    Every tune of a tunebook becomes NN-title.mid and .wav (and .svg, .png,
    .roll.png with --to), converted on every core; a tune that cannot be
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
    from musicgen.abc.tunebook import parse_tunebook, read_abc_file
    from musicgen.render.midi import instrument_program
    from musicgen.render.output import save_tunes

    formats = check_formats(formats.split(","))
    instrument_program(instrument)
    tunes, skipped = parse_tunebook(read_abc_file(source), source.name)
    for item in skipped:
        click.echo(f"  skipped {item}", err=True)
    if not tunes:
        raise MusicgenError(f"{source}: no usable tune")
    out_dir = out_dir or source.parent / source.stem
    saved = save_tunes(
        tunes, out_dir, force=force, formats=formats, instrument=instrument, tempo_qpm=bpm, progress=True
    )
    for stem, reason in saved.failed:
        click.echo(f"  not converted: {stem}: {reason}", err=True)
    converted = len(tunes) - len(saved.failed)
    audio = f", audio by {saved.renderer}" if saved.renderer else ""
    click.echo(f"converted {converted} of {len(tunes)} tunes to {out_dir}/ ({len(saved.paths)} files{audio})")
    if saved.failed:
        raise MusicgenError(f"{len(saved.failed)} tune(s) could not be converted (listed above)")


@main.command()
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


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--half/--full", default=True, show_default=True, help="Store the weights as float16.")
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
@_user_errors
def export(source, target, half, force) -> None:
    """Write a compact copy of a model (no optimizer state) for sharing.

    SOURCE is a checkpoint or a training run folder (its model.pt).
    """
    from musicgen.sampling.sampler import export_model

    if target.exists() and not force:
        raise MusicgenError(f"{target}: already exists (use --force to overwrite)")
    export_model(source, target, half=half)
    click.echo(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")


@main.command()
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


def _read_book(path: Path) -> list:
    from musicgen.abc.tunebook import parse_tunebook, read_abc_file

    tunes, _ = parse_tunebook(read_abc_file(path), path.name)
    if not tunes:
        raise MusicgenError(f"{path}: no usable tune")
    return tunes


def _add_groups() -> None:
    from musicgen.cli.sentiment import sentiment
    from musicgen.cli.translate import translate

    main.add_command(sentiment)
    main.add_command(translate)


_add_groups()

if __name__ == "__main__":
    sys.exit(main())
