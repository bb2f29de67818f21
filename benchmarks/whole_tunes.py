"""Issue 22's figures: form and style of generated tunes, asked for as the CLI asks.

1. ``--type reel`` and ``--type jig`` (50 each, CLI defaults, seed 5, or each of ``--type-seeds``): the
   share with two or more parts of 8 or 16 bars, with one part only, under 8 bars in all, and their
   median bars.
2. ``--form AABB --part-bars 8`` for reel, jig, hornpipe and slip jig (100 each): the share honoured
   (parts ``AABB``, each of 8 bars, as :func:`musicgen.abc.form.tune_form` counts them).
3. ``--style S`` for each style (50 each): the share a style classifier calls S. The classifier
   (naive Bayes over character 1-5-grams of the tune moved to C, header codes and R: left out) is
   fitted on the train split's styles; its accuracy on the test split's real tunes is printed beside.
4. A plain ``musicgen generate`` (64 tunes, no options): its forms.

    python benchmarks/whole_tunes.py [--model PATH] [--tunes 50] [--only types,forms,styles,plain] [--type-seeds 5,6]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections import Counter

from musicgen.abc.codes import STYLE_FIELD, STYLES, form_option
from musicgen.abc.corpus import load_corpus
from musicgen.abc.form import tune_form
from musicgen.abc.transpose import transpose_tune
from musicgen.errors import MusicgenError
from musicgen.model.lm import load_model
from musicgen.model.stepper import int8_available
from musicgen.sampling.sampler import generate_batches, header_fields


def sample(model, n: int, seed: int, **options) -> list:
    """n tunes as ``musicgen generate`` writes them for these options (CLI defaults otherwise)."""
    kind_given = any(options.get(k) is not None for k in ("tune_type", "meter", "style"))
    form = form_option(options.pop("form", None), options.pop("part_bars", None), kind_given)
    header = header_fields(form=form, **options)
    tunes = []
    for batch in generate_batches(model, n, 64, header=header, seed=seed, int8=int8_available()):
        tunes += [t.tune for t in batch]
    return tunes


def forms_row(name: str, tunes: list) -> str:
    forms = [tune_form(t.body, t.fields) if t is not None else None for t in tunes]
    read = [f for f in forms if f is not None]
    dance = sum(f.dance_form for f in read) / len(tunes)
    one = sum(len(f.parts) == 1 for f in read) / len(tunes)
    short = sum(f.bars < 8 for f in read) / len(tunes)
    median = statistics.median(f.bars for f in read) if read else 0
    common = ", ".join(f"{k} {v}" for k, v in Counter(f.describe() for f in read).most_common(3))
    return f"| {name} | {dance:.1%} | {one:.1%} | {short:.1%} | {median:g} | {common} |"


def honoured(tunes: list, pattern: str, bars: int) -> float:
    def keeps(tune) -> bool:
        form = tune_form(tune.body, tune.fields)
        return form.pattern == pattern and all(part.bars == bars for part in form.parts)

    return sum(t is not None and keeps(t) for t in tunes) / len(tunes)


class StyleClassifier:
    """Multinomial naive Bayes over character 1-5-grams of a tune's M:, L: and body, moved to C."""

    ORDERS = (1, 2, 3, 4, 5)

    def __init__(self, tunes: list, styles: list[str]):
        self.counts = {style: Counter() for style in set(styles)}
        self.priors = Counter(styles)
        for tune, style in zip(tunes, styles):
            self.counts[style].update(self.grams(tune))
        self.totals = {style: sum(c.values()) for style, c in self.counts.items()}
        self.vocab = len(set().union(*self.counts.values()))

    def grams(self, tune) -> list[str]:
        try:
            tune = transpose_tune(tune, "C")
        except MusicgenError:
            pass
        text = f"M:{tune.fields.get('M', '')}\nL:{tune.fields.get('L', '')}\nK:{tune.key}\n{tune.body}"
        return [text[i : i + n] for n in self.ORDERS for i in range(len(text) - n + 1)]

    def predict(self, tune) -> str:
        grams = Counter(self.grams(tune))
        total = sum(self.priors.values())

        def score(style: str) -> float:
            counts, denominator = self.counts[style], self.totals[style] + self.vocab
            prior = math.log(self.priors[style] / total)
            return prior + sum(n * math.log((counts[g] + 1) / denominator) for g, n in grams.items())

        return max(self.counts, key=score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tunes", type=int, default=50)
    parser.add_argument("--only", default="types,forms,styles,plain")
    parser.add_argument("--type-seeds", default="5", help="seeds for the --type rows, one row each (e.g. 5,6,7,8)")
    args = parser.parse_args()
    model = load_model(args.model)
    parts = args.only.split(",")
    started = time.perf_counter()
    print("| asked | two+ parts of 8/16 bars | one part | under 8 bars | median bars | commonest forms |")
    print("|---|---|---|---|---|---|")
    if "types" in parts:
        for kind in ("reel", "jig"):
            for seed in (int(s) for s in args.type_seeds.split(",")):
                tunes = sample(model, args.tunes, seed, tune_type=kind)
                print(forms_row(f"--type {kind} (seed {seed})", tunes), flush=True)
    if "plain" in parts:
        print(forms_row("no options (64, seed 1)", sample(model, 64, 1)), flush=True)
    if "forms" in parts:
        print("\n| --form AABB --part-bars 8 | honoured |\n|---|---|")
        for kind in ("reel", "jig", "hornpipe", "slip jig"):
            tunes = sample(model, 2 * args.tunes, 7, tune_type=kind, form="AABB", part_bars=8)
            print(f"| --type {kind} | {honoured(tunes, 'AABB', 8):.1%} |", flush=True)
    if "styles" in parts:
        corpus = load_corpus()
        train, test = corpus.coded("train"), corpus.coded("test")
        train = [t for t in train if t.fields.get(STYLE_FIELD)]
        classifier = StyleClassifier(train, [t.fields[STYLE_FIELD] for t in train])
        print("\n| --style | called that by the classifier | classifier on real test tunes of it |\n|---|---|---|")
        for style in STYLES:
            real = [t for t in test if t.fields.get(STYLE_FIELD) == style]
            ceiling = sum(classifier.predict(t) == style for t in real) / len(real) if real else float("nan")
            tunes = [t for t in sample(model, args.tunes, 11, style=style) if t is not None]
            hits = sum(classifier.predict(t) == style for t in tunes) / args.tunes
            print(f"| {style} | {hits:.1%} | {ceiling:.1%} ({len(real)}) |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
