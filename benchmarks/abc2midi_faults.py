"""Which generated tunes abc2midi reports errors in, and what each error is.

Samples as the model card does at the CLI's defaults (T 0.85, int8 where
available, 4 ending drafts, bars drawn again up to 8 times, a plain
``generate``'s ``N:AABB 8``), for each --seeds seed, runs ``abc2midi -c`` on
every tune and prints each faulty tune's errors with the line they point
at, then the count per seed. The errors left are what the sampler's facts
(``musicgen.sampling.facts``) do not know yet::

    python benchmarks/abc2midi_faults.py [--model PATH] [--tunes 200] [--seeds 1,2,3] [--quiet]
"""

from __future__ import annotations

import argparse
import re

from musicgen.abc.codes import form_option
from musicgen.evaluation.abc2midi import available, run_abc2midi
from musicgen.model.lm import load_model
from musicgen.model.stepper import int8_available
from musicgen.sampling.sampler import generate, header_fields

_WHERE = re.compile(r"line-char (\d+)-(\d+)")


def faults(abc: str) -> list[str]:
    """abc2midi's errors for one tune, each with the text it points at."""
    found = []
    for error in re.findall(r"^Error.*$", run_abc2midi(abc, "-c").report, re.MULTILINE):
        where = _WHERE.search(error)
        lines = abc.splitlines()
        if where and 0 < int(where.group(1)) <= len(lines):
            line, column = lines[int(where.group(1)) - 1], int(where.group(2))
            error += f"   at {line[max(0, column - 25) : column + 10]!r}"
        found.append(error)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tunes", type=int, default=200)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--quiet", action="store_true", help="print the counts only")
    args = parser.parse_args()
    if not available():
        raise SystemExit("abc2midi is not installed (apt-get install abcmidi)")
    model = load_model(args.model)
    header = header_fields(form=form_option(None, None, kind_given=False))
    counts = []
    for seed in (int(s) for s in args.seeds.split(",")):
        tunes = generate(model, n=args.tunes, seed=seed, temperature=0.85, int8=int8_available(), header=header)
        faulty = 0
        for index, tune in enumerate(tunes):
            errors = faults(tune.abc)
            faulty += bool(errors)
            if errors and not args.quiet:
                print(f"seed {seed}, tune {index + 1}:\n  " + "\n  ".join(errors))
        counts.append(f"seed {seed}: {faulty} of {len(tunes)} tunes with abc2midi errors")
    print("\n".join(counts))


if __name__ == "__main__":
    main()
