"""``musicgen translate ...``: translate sentences, train and evaluate translators."""

from __future__ import annotations

from pathlib import Path

import click

from musicgen.cli.util import build_config, check_new_file, input_lines, set_threads, threads_option, user_errors

_MODEL_HELP = "Translation checkpoint [default: the bundled English-to-French model]."


class _DefaultToText(click.Group):
    """A group whose first argument, when not a subcommand, is text to translate."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["text", *args]
        elif not args and not click.get_text_stream("stdin").isatty():
            args = ["text"]  # 'printf ... | musicgen translate' translates what it is given
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToText)
def translate() -> None:
    """Translate sentences with an encoder-decoder with attention.

    'musicgen translate "I am cold."' uses the bundled English-to-French model;
    without text (or with '-') it translates the lines on stdin
    (trained on Tatoeba pairs from tatoeba.org via manythings.org, CC-BY 2.0 FR).
    The subcommands train and evaluate your own models.
    """


def _read_pairs(source, target, pairs, reverse, sample=0, seed=0):
    """Pairs from --source/--target, --pairs files (each cut to ``sample`` pairs if given), or both."""
    from musicgen.tasks.translate.data import read_parallel, read_tsv_pairs, sample_pairs

    if bool(source) != bool(target):
        raise click.UsageError("give both --source and --target, or neither")
    if not (source or pairs):
        raise click.UsageError("give --source FILE and --target FILE, or --pairs FILE (or both)")
    found = read_parallel(source, target) if source else []
    for path in pairs:
        extra = read_tsv_pairs(path, reverse)
        found += sample_pairs(extra, sample, seed) if sample else extra
    return found


@translate.command("text")
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Translate this file, one sentence per line ('-' is stdin). Without TEXTS or --file, stdin is read.",
)
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None, help=_MODEL_HELP)
@click.option("--beam", type=click.IntRange(1, 50), default=5, show_default=True, help="Beam size (1: greedy).")
@click.option(
    "--attention",
    "attention_png",
    type=click.Path(path_type=Path),
    default=None,
    help="Draw the first sentence's attention as a heat map (PNG).",
)
@click.option("--force", is_flag=True, help="Replace the --attention file if it exists.")
@user_errors
def text_command(texts, file, model_path, beam, attention_png, force):
    """Translate TEXTS (the default command: 'musicgen translate "..."')."""
    from musicgen.tasks.translate.plot import plot_attention
    from musicgen.tasks.translate.translator import load_translation_model

    sentences = input_lines(texts, file)
    if not sentences:
        raise click.UsageError("no sentences given (pass TEXTS, --file or lines on stdin)")
    if attention_png is not None:
        check_new_file(attention_png, force)
    model = load_translation_model(model_path)
    results = model.translate(sentences, beam=beam)
    for result in results:
        if result.truncated:
            click.echo(f"warning: only the first {len(result.source_pieces)} pieces were translated", err=True)
        click.echo(result.text)
    if attention_png is not None:
        if not results[0].target_pieces:
            raise click.UsageError("the first sentence is empty: no attention to draw")
        plot_attention(results[0], attention_png)
        click.echo(f"attention map in {attention_png}", err=True)


@translate.command("train")
@threads_option
@click.option("--source", type=click.Path(path_type=Path), help="Training sentences, one per line.")
@click.option("--target", type=click.Path(path_type=Path), help="Their translations, aligned by line.")
@click.option(
    "--pairs",
    type=click.Path(path_type=Path),
    multiple=True,
    help="A 'sentence<TAB>translation' file (.txt or .zip), alone or added to --source/--target; repeatable.",
)
@click.option("--reverse", is_flag=True, help="--pairs: translate from the second column to the first.")
@click.option(
    "--pairs-sample",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Use at most this many pairs of each --pairs file, chosen at random by --seed (0: all).",
)
@click.option("--valid-source", type=click.Path(path_type=Path), help="Validation sentences.")
@click.option("--valid-target", type=click.Path(path_type=Path), help="Their translations.")
@click.option(
    "--valid-fraction",
    type=float,
    default=0.05,
    show_default=True,
    help="Without validation files: held-out share, grouped by the English side.",
)
@click.option(
    "--languages",
    nargs=2,
    default=("de", "en"),
    show_default=True,
    metavar="SRC TGT",
    help="Language codes, kept with the model as its labels.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("outputs/translate/model.pt"),
    show_default=True,
    help="Checkpoint to write.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--cell", type=click.Choice(["lstm", "gru", "rnn"]), default="gru", show_default=True)
@click.option(
    "--attention",
    type=click.Choice(["additive", "dot", "general"]),
    default="additive",
    show_default=True,
    help="additive: Bahdanau; dot, general: Luong.",
)
@click.option("--embedding-size", type=int, default=256, show_default=True)
@click.option("--hidden-size", type=int, default=256, show_default=True, help="Encoder units per direction.")
@click.option("--num-layers", type=int, default=1, show_default=True)
@click.option("--dropout", type=float, default=0.3, show_default=True)
@click.option("--embedding-dropout", type=float, default=0.2, show_default=True)
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--learning-rate", type=float, default=2e-3, show_default=True)
@click.option("--epochs", type=int, default=12, show_default=True)
@click.option("--patience", type=int, default=3, show_default=True)
@click.option("--label-smoothing", type=float, default=0.1, show_default=True)
@click.option(
    "--vocab-size",
    type=int,
    default=8000,
    show_default=True,
    help="Subword pieces per language at most, learnt from the training pairs.",
)
@click.option(
    "--max-pieces",
    type=int,
    default=100,
    show_default=True,
    help="Training pairs with a longer side (in subword pieces) are skipped.",
)
@click.option("--half", is_flag=True, help="Store the weights as float16 (half the file size).")
@click.option(
    "--init",
    type=click.Path(path_type=Path),
    default=None,
    help="Go on training this saved translator (its shape, subwords, languages and weights; the shape, "
    "--vocab-size and --languages options are then not used). A lower --learning-rate suits it.",
)
@click.option("--time-limit", type=float, default=0.0, show_default=True, help="Minutes (0: none).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True)
@user_errors
def train_command(
    source,
    target,
    pairs,
    reverse,
    pairs_sample,
    valid_source,
    valid_target,
    valid_fraction,
    languages,
    out,
    force,
    quiet,
    threads,
    half,
    init,
    **options,
):
    """Train a translator; the best epoch by validation BLEU (greedy) is saved."""
    from musicgen.tasks.translate.data import read_parallel, split_pairs
    from musicgen.tasks.translate.model import TranslatorConfig
    from musicgen.tasks.translate.train import TranslateTrainConfig, train_translator

    model_keys = ("cell", "attention", "embedding_size", "hidden_size", "num_layers", "dropout", "embedding_dropout")
    config = build_config(
        TranslatorConfig, source_vocab_size=1, target_vocab_size=1, **{k: options.pop(k) for k in model_keys}
    )
    train_config = build_config(TranslateTrainConfig, **options)
    check_new_file(out, force)
    set_threads(threads)
    train = _read_pairs(source, target, pairs, reverse, pairs_sample, train_config.seed)
    if bool(valid_source) != bool(valid_target):
        raise click.UsageError("give both --valid-source and --valid-target, or neither")
    if valid_source:
        valid = read_parallel(valid_source, valid_target)
    else:
        english = "source" if languages[0] == "en" else "target"
        train, valid = split_pairs(train, valid_fraction, train_config.seed, key=english)
    start = None
    if init is not None:
        from musicgen.tasks.translate.translator import load_translation_model

        start = load_translation_model(init)
    result = train_translator(train, valid, tuple(languages), config, train_config, progress=not quiet, init=start)
    result.model.save(out, half=half)
    click.echo(
        f"{result.stopped} after {result.epochs} epochs ({result.seconds / 60:.1f} min): "
        f"best validation BLEU {result.best_bleu:.2f} (greedy); model in {out}"
    )


@translate.command("evaluate")
@click.option("--source", type=click.Path(path_type=Path), help="Sentences to translate, one per line.")
@click.option("--target", type=click.Path(path_type=Path), help="Reference translations, aligned by line.")
@click.option("--pairs", type=click.Path(path_type=Path), multiple=True, help="Or 'sentence<TAB>translation' files.")
@click.option("--reverse", is_flag=True, help="--pairs: translate from the second column to the first.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None, help=_MODEL_HELP)
@click.option("--beam", type=click.IntRange(1, 50), default=5, show_default=True, help="Beam size (1: greedy).")
@user_errors
def evaluate_command(source, target, pairs, reverse, model_path, beam):
    """sacreBLEU (cased, detokenised, 13a) and chrF of a model's translations."""
    from musicgen.tasks.translate.train import corpus_bleu
    from musicgen.tasks.translate.translator import load_translation_model

    model = load_translation_model(model_path)
    bleu, chrf, signature = corpus_bleu(model, _read_pairs(source, target, pairs, reverse), beam=beam)
    click.echo(f"BLEU {bleu.score:.2f}  chrF {chrf.score:.2f}  (beam {beam})")
    click.echo(f"{bleu}")
    click.echo(f"signature: {signature}")
