"""``musicgen train``, ``plot`` and ``export``: making models and looking at their runs."""

from __future__ import annotations

from pathlib import Path

import click

from musicgen.cli.options import config_options, given
from musicgen.cli.util import user_errors as _user_errors
from musicgen.errors import MusicgenError
from musicgen.model.config import ModelConfig, TrainConfig

#: The model's shape, as ``musicgen train`` options (vocab_size comes from the corpus).
MODEL_OPTIONS = (
    "cell",
    "nonlinearity",
    "identity_init",
    "hidden_size",
    "num_layers",
    "embedding_size",
    "dropout",
    "form_positions",
)


@click.command()
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
@config_options(ModelConfig, only=MODEL_OPTIONS)
@config_options(TrainConfig)
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
    --force. Validation runs at every multiple of --eval-interval steps. At
    the end the echo's weights (how far sampling follows a tune's own earlier
    bars) are fitted on the valid split and saved in model.pt.
    """
    from musicgen.render.output import new_run_dir
    from musicgen.training.loop import train as train_model

    try:
        model_config = ModelConfig(vocab_size=1, **{k: options.pop(k) for k in MODEL_OPTIONS})
        if resume is not None:  # the run's own settings, changed only where an option is given
            options = {**_resumed_settings(resume), **given(ctx, options)}
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
    if result.echo:
        click.echo(result.echo)


def _resumed_settings(resume: Path) -> dict:
    from musicgen.model.checkpoint import load_checkpoint

    data = load_checkpoint(resume / "last.pt" if resume.is_dir() else resume)
    return dict(data.get("train_config") or {})


@click.command()
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


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--half/--full", default=True, show_default=True, help="Store the weights as float16.")
@click.option(
    "--card",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A Markdown model card, saved as the folder's README.md.",
)
@click.option(
    "--fit-echo",
    is_flag=True,
    help="Fit the echo's weights (how far the model follows the tune's own earlier bars) again, "
    "on the default corpus's valid split; a model trained by 'musicgen train' has them already.",
)
@click.option("--force", is_flag=True, help="Replace TARGET if it exists (a folder only if it is a saved model).")
@_user_errors
def export(source, target, half, card, fit_echo, force) -> None:
    """Write a compact copy of a model (no optimizer state) for sharing.

    SOURCE is a saved model folder, a training run folder (its model.pt) or a
    .pt checkpoint. TARGET is a folder of safetensors weights, JSON settings
    and vocabulary (what 'musicgen generate --model' and
    musicgen.load_model read; loading it never runs code), or one .pt file
    when it ends in .pt.
    """
    from musicgen.limits import read_bounded
    from musicgen.model.lm import export_model

    if target.exists() and not force:
        raise MusicgenError(f"{target}: already exists (use --force to overwrite)")
    text = read_bounded(card, 1024 * 1024, "model card").decode("utf-8", errors="replace") if card else None
    if fit_echo:
        from musicgen.abc.corpus import load_corpus
        from musicgen.model.lm import load_model
        from musicgen.training.echo import echo_texts, fit_model_echo

        model = load_model(source)
        click.echo(str(fit_model_echo(model, echo_texts(model, load_corpus()), progress=True)), err=True)
        written = model.save(target, half, text)
    else:
        written = export_model(source, target, half=half, card=text)
    files = [written] if written.is_file() else list(written.iterdir())
    click.echo(f"wrote {written} ({sum(f.stat().st_size for f in files) / 1e6:.1f} MB)")
