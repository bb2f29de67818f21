"""``musicgen lab``: the lecture's experiments."""

from __future__ import annotations

from pathlib import Path

import click

from musicgen.cli.util import user_errors as _user_errors


@click.command()
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
