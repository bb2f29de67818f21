"""Sampling temperature against what the samples are like.

Samples tunes from a model (the bundled one by default) at several
temperatures and scores each set: the model's own bits/char on its samples
(at temperature 1: how surprising they are to it), the share that converts
to MIDI, bar-length consistency, and the novelty figures of
``musicgen evaluate`` against the training split.
"""

from __future__ import annotations

from pathlib import Path

from musicgen.lab.report import LabResult, figure, save


def run(
    out_dir: Path,
    temperatures: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5),
    tunes: int = 48,
    model_path: Path | None = None,
    seed: int = 0,
    novelty_tunes: list | None = None,
) -> LabResult:
    """Bits/char, conversion, bar consistency and novelty of samples at each temperature."""
    from musicgen.evaluation.evaluate import NoveltyIndex, evaluate_tunes
    from musicgen.model.lm import load_model
    from musicgen.sampling.sampler import generate
    from musicgen.training.data import encode_tunes
    from musicgen.training.measures import evaluate_bpc

    model = load_model(model_path)
    if novelty_tunes is None:
        from musicgen.abc.corpus import load_corpus

        novelty_tunes = load_corpus().split("train")
    index = NoveltyIndex(novelty_tunes)
    table = []
    for temperature in temperatures:
        samples = generate(
            model, n=tunes, temperature=temperature, seed=seed, end_drafts=1, bar_tries=0
        )  # temperature alone
        readable = [s.tune for s in samples if s.tune is not None]
        summary = evaluate_tunes(readable, novelty=index, use_abc2midi=False)["summary"] if readable else {}
        own_bpc = evaluate_bpc(model, encode_tunes([s.text for s in samples], model.vocab), 16, 256)
        table.append(
            {
                "temperature": temperature,
                "bits_per_char": own_bpc,
                "converts": (summary.get("converts") or 0) * len(readable) / tunes,
                "bar_consistency": summary.get("bar_consistency"),
                "verbatim_bars": summary.get("verbatim_bars"),
                "shares_4_bars": summary.get("shares_4_bars"),
            }
        )
    fig, (left, right) = figure(12, 4.2, columns=2)
    xs = [row["temperature"] for row in table]
    left.plot(xs, [row["bits_per_char"] for row in table], marker="o")
    left.set_xlabel("temperature")
    left.set_ylabel("model's bits/char on its samples")
    for key in ("converts", "bar_consistency", "verbatim_bars", "shares_4_bars"):
        right.plot(xs, [row[key] if row[key] is not None else float("nan") for row in table], marker="o", label=key)
    right.set_xlabel("temperature")
    right.set_ylabel("share")
    right.legend(fontsize=8)
    return save(LabResult("temperature", table, _findings(table)), fig, out_dir)


def _findings(table: list[dict]) -> list[str]:
    low, high = table[0], table[-1]
    lines = [
        f"From temperature {low['temperature']} to {high['temperature']}, the model's bits/char on its own "
        f"samples goes from {low['bits_per_char']:.2f} to {high['bits_per_char']:.2f}: hotter samples are "
        f"less likely under the model."
    ]
    if low["verbatim_bars"] is not None and high["verbatim_bars"] is not None:
        lines.append(
            f"Verbatim bars (copied from training tunes) go from {low['verbatim_bars']:.1%} to "
            f"{high['verbatim_bars']:.1%}; conversion to MIDI from {low['converts']:.0%} to "
            f"{high['converts']:.0%}: cold is safe but copies, hot is new but breaks."
        )
    return lines
