"""``musicgen sentiment ...``: train, evaluate and use sentence classifiers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from musicgen.cli.util import build_config, check_new_file, input_lines, set_threads, threads_option, user_errors

_MODEL_HELP = "Sentiment checkpoint [default: the bundled model]."


@click.group()
def sentiment() -> None:
    """Classify sentences as positive or negative (the lecture's many-to-one model).

    'musicgen sentiment predict "text"' uses the bundled model (trained on
    SST-2's 67,349 movie-review phrases via GLUE, a research release; 0.853 on
    SST-2 dev). Data files are 'text<TAB>label' lines (a header line naming the
    columns is read, as in GLUE's train.tsv), 'label text' lines (SST-2) or CSV
    with a header.
    """


def _model_options(command):
    options = [
        click.option(
            "--kind",
            type=click.Choice(["rnn", "bow", "window"]),
            default="rnn",
            show_default=True,
            help="rnn: the shared recurrent core; bow, window: the baselines.",
        ),
        click.option("--cell", type=click.Choice(["lstm", "gru", "rnn"]), default="lstm", show_default=True),
        click.option("--bidirectional/--unidirectional", default=True, show_default=True),
        click.option(
            "--pooling",
            type=click.Choice(["max", "mean", "last"]),
            default="max",
            show_default=True,
            help="How word features become one sentence vector.",
        ),
        click.option("--embedding-size", type=int, default=128, show_default=True),
        click.option("--hidden-size", type=int, default=128, show_default=True),
        click.option("--num-layers", type=int, default=1, show_default=True),
        click.option("--window", type=int, default=3, show_default=True, help="Words per window (--kind window)."),
        click.option(
            "--subword-buckets",
            type=int,
            default=0,
            show_default=True,
            help="Hashed character n-gram embeddings per word, so unseen words still count (0: off).",
        ),
        click.option("--dropout", type=float, default=0.5, show_default=True),
        click.option("--embedding-dropout", type=float, default=0.3, show_default=True),
        click.option("--batch-size", type=int, default=32, show_default=True),
        click.option("--learning-rate", type=float, default=2e-3, show_default=True),
        click.option("--weight-decay", type=float, default=0.0, show_default=True),
        click.option("--epochs", type=int, default=15, show_default=True),
        click.option(
            "--patience",
            type=int,
            default=4,
            show_default=True,
            help="Epochs without a better validation accuracy before stopping (0: never).",
        ),
        click.option("--clip-norm", type=float, default=5.0, show_default=True),
        click.option("--min-freq", type=int, default=1, show_default=True, help="Rarer training words become <unk>."),
        click.option(
            "--word-dropout",
            type=float,
            default=0.0,
            show_default=True,
            help="Share of training words replaced by <unk> in each batch.",
        ),
        click.option("--time-limit", type=float, default=0.0, show_default=True, help="Minutes (0: none)."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _configs(options: dict):
    from musicgen.tasks.sentiment.model import SentimentConfig
    from musicgen.tasks.sentiment.train import SentimentTrainConfig

    model_keys = (
        "kind",
        "cell",
        "bidirectional",
        "pooling",
        "embedding_size",
        "hidden_size",
        "num_layers",
        "window",
        "subword_buckets",
        "dropout",
        "embedding_dropout",
    )
    config = build_config(SentimentConfig, vocab_size=1, **{k: options.pop(k) for k in model_keys})
    return config, build_config(SentimentTrainConfig, **options)


def _read(path: Path, text_column: str | None, label_column: str | None):
    from musicgen.tasks.sentiment.data import read_examples

    return read_examples(path, text_column, label_column)


_column_options = [
    click.option(
        "--text-column", default=None, help="CSV and headed TSV files: the text column [default: found by name]."
    ),
    click.option(
        "--label-column", default=None, help="CSV and headed TSV files: the label column [default: found by name]."
    ),
]


def _with_columns(command):
    for option in reversed(_column_options):
        command = option(command)
    return command


@sentiment.command("train")
@threads_option
@click.argument("train_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--valid",
    "valid_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Validation file for choosing the best epoch [default: a tenth of TRAIN_FILES, by hash].",
)
@click.option(
    "--test",
    "test_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Also score the finished model on this file.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("outputs/sentiment/model.pt"),
    show_default=True,
    help="Checkpoint to write.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--half", is_flag=True, help="Store the weights as float16 (half the file size).")
@_with_columns
@_model_options
@user_errors
def train_command(
    train_files, valid_file, test_file, out, force, quiet, threads, half, text_column, label_column, **options
):
    """Train a sentence classifier on TRAIN_FILES (read together) and save its best epoch."""
    from musicgen.tasks.sentiment.data import split_examples
    from musicgen.tasks.sentiment.train import evaluate_classifier, train_classifier

    config, train_config = _configs(options)
    check_new_file(out, force)
    set_threads(threads)
    train = [example for path in train_files for example in _read(path, text_column, label_column)]
    test = _read(test_file, text_column, label_column) if test_file else None
    if valid_file is not None:
        valid = _read(valid_file, text_column, label_column)
    else:
        train, valid = split_examples(train, 0.1, train_config.seed)
    result = train_classifier(train, valid, config, train_config, progress=not quiet)
    result.model.metrics = {"valid_accuracy": result.best_valid_accuracy}
    if test is not None:
        result.model.metrics["test_accuracy"] = evaluate_classifier(result.model, test).accuracy
    result.model.save(out, half=half)
    scores = ", ".join(f"{k} {v:.3f}" for k, v in result.model.metrics.items())
    click.echo(f"{result.stopped} after {result.epochs} epochs ({result.seconds:.0f} s): {scores}; model in {out}")


@sentiment.command("evaluate")
@click.argument("data_file", type=click.Path(path_type=Path))
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None, help=_MODEL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_with_columns
@user_errors
def evaluate_command(data_file, model_path, as_json, text_column, label_column):
    """Score a model on labelled sentences: accuracy, precision, recall, F1, confusion matrix."""
    from dataclasses import asdict

    from musicgen.tasks.sentiment.classifier import load_sentiment_model
    from musicgen.tasks.sentiment.train import evaluate_classifier

    model = load_sentiment_model(model_path)
    metrics = evaluate_classifier(model, _read(data_file, text_column, label_column))
    if as_json:
        click.echo(json.dumps(asdict(metrics), indent=2))
        return
    (tn, fp), (fn, tp) = metrics.confusion
    click.echo(
        f"accuracy {metrics.accuracy:.4f}  precision {metrics.precision:.4f}  "
        f"recall {metrics.recall:.4f}  F1 {metrics.f1:.4f}  ({tn + fp + fn + tp} sentences)"
    )
    click.echo("confusion (rows: true, columns: predicted)")
    click.echo(f"            negative  positive\n  negative  {tn:>8}  {fp:>8}\n  positive  {fn:>8}  {tp:>8}")


@sentiment.command("predict")
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read sentences from this file, one per line ('-' is stdin). Without TEXTS or --file, stdin is read.",
)
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None, help=_MODEL_HELP)
@click.option("--explain", is_flag=True, help="Show each word's contribution to the score (? marks unknown words).")
@user_errors
def predict_command(texts, file, model_path, explain):
    """Print the probability that each sentence is positive, and its label."""
    from musicgen.tasks.sentiment.classifier import load_sentiment_model

    sentences = [s for s in input_lines(texts, file) if s.strip()]
    if not sentences:
        raise click.UsageError("no sentences given (pass TEXTS, --file or lines on stdin)")
    model = load_sentiment_model(model_path)
    if explain:
        for sentence in sentences:
            click.echo(str(model.explain(sentence)))
        return
    for sentence, probability in zip(sentences, model.predict(sentences)):
        label = "positive" if probability > 0.5 else "negative"
        click.echo(f"{probability:.3f}\t{label}\t{sentence}")


@sentiment.command("compare")
@click.argument("train_file", type=click.Path(path_type=Path))
@click.argument("test_file", type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bars.")
@_with_columns
@_model_options
@user_errors
def compare_command(train_file, test_file, quiet, text_column, label_column, **options):
    """Train the recurrent model and both baselines the same way; print a table.

    A tenth of TRAIN_FILE (by hash) chooses each model's best epoch; TEST_FILE
    scores them. The table also shows each model's probabilities for the
    lecture's pair "The food was good, not bad at all." / "... bad, not good ...".
    """
    from musicgen.tasks.sentiment.compare import compare_models, comparison_table
    from musicgen.tasks.sentiment.data import split_examples

    config, train_config = _configs(options)
    train, valid = split_examples(_read(train_file, text_column, label_column), 0.1, train_config.seed)
    rows = compare_models(
        train, valid, _read(test_file, text_column, label_column), config, train_config, progress=not quiet
    )
    click.echo(comparison_table(rows))


@sentiment.command("crossval")
@click.argument("data_file", type=click.Path(path_type=Path))
@click.option("--folds", type=int, default=10, show_default=True)
@_with_columns
@_model_options
@user_errors
def crossval_command(data_file, folds, text_column, label_column, **options):
    """K-fold cross-validation accuracy of one kind of model on DATA_FILE."""
    from statistics import mean, stdev

    from musicgen.tasks.sentiment.train import cross_validate

    if folds < 2:
        raise click.BadParameter(f"--folds must be 2 or more, not {folds}")
    config, train_config = _configs(options)
    scores = cross_validate(_read(data_file, text_column, label_column), folds, config, train_config, train_config.seed)
    click.echo(
        f"{config.kind}: {folds}-fold accuracy {mean(scores):.4f} +- {stdev(scores):.4f} "
        f"(folds: {' '.join(f'{s:.3f}' for s in scores)})"
    )
