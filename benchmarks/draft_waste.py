"""What drafting costs: characters the sampler writes against characters it keeps, at the CLI's defaults.

Counts every character written by every batch row (ending drafts, header
drafts, bars drawn again) while ``--tunes`` tunes are sampled with the
bundled model and the CLI's default settings (``N:AABB 8`` forced, as
``musicgen generate`` does with no options; ``--form any`` forces none), and
the characters of the tunes kept::

    python benchmarks/draft_waste.py [--tunes 64] [--seed 1] [--end-drafts N] [--form any]
"""

from __future__ import annotations

import argparse
import time

import musicgen
import musicgen.sampling.sampler as sampler
from musicgen.abc.codes import form_option
from musicgen.model.stepper import int8_available
from musicgen.sampling.sampler import header_fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end-drafts", type=int, default=None)
    parser.add_argument("--form", default=None, help="as generate's --form [default: the CLI's, AABB of 8 bars]")
    args = parser.parse_args()
    model = musicgen.load_model()
    rows: list[int] = []
    make = sampler.make_stepper

    def counting(*a, **k):
        step = make(*a, **k)

        def counted(ids, state, positions=None):
            rows.append(len(ids))
            return step(ids, state, positions)

        return counted

    sampler.make_stepper = counting
    settings = {} if args.end_drafts is None else {"end_drafts": args.end_drafts}
    start = time.perf_counter()
    header = header_fields(form=form_option(args.form, None, kind_given=False))
    tunes = musicgen.generate(model, n=args.tunes, seed=args.seed, header=header, int8=int8_available(), **settings)
    seconds = time.perf_counter() - start
    written, kept = sum(rows), sum(len(tune.text) for tune in tunes)
    print(f"{args.tunes} tunes in {seconds:.2f} s: {len(rows)} steps, {written:,} characters written by all rows")
    print(f"kept {kept:,} characters ({kept / written:.1%}); thrown away {1 - kept / written:.1%}")


if __name__ == "__main__":
    main()
