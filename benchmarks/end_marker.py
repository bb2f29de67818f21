"""Where a model ends its tunes, and what the ending drafts do to the kept tune's length and form.

For --tunes tunes with no options beyond ``--form`` (one draft each, and again with the CLI's 4 ending
drafts): the share that end right after their first part closes (the first ``:|``, ``||`` or ``|]``:
where an Essen song ends), the parts and bars of the kept tunes, and the share in dance form.

    python benchmarks/end_marker.py [--model PATH] [--tunes 200] [--seed 1] [--form any|AABB]
"""

from __future__ import annotations

import argparse
import re
import statistics

from musicgen.abc.codes import form_option
from musicgen.abc.form import tune_form
from musicgen.model.lm import load_model
from musicgen.model.stepper import int8_available
from musicgen.sampling.sampler import generate, header_fields

PART_END = re.compile(r":\||\|\||\|\]")


def ends_after_first_part(body: str) -> bool:
    """Whether the body's only part-closing mark is at its end."""
    marks = list(PART_END.finditer(body.rstrip()))
    return len(marks) == 1 and marks[0].end() >= len(body.rstrip()) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tunes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--form", default="any")
    args = parser.parse_args()
    model = load_model(args.model)
    header = header_fields(form=form_option(args.form, None, kind_given=False))
    print("| end drafts | ends after its first part | parts (median) | bars (median) | one part | dance form |")
    print("|---|---|---|---|---|---|")
    for drafts in (1, 4):
        tunes = generate(model, n=args.tunes, seed=args.seed, end_drafts=drafts, header=header, int8=int8_available())
        read = [t.tune for t in tunes if t.tune is not None]
        forms = [tune_form(t.body, t.fields) for t in read]
        first = sum(ends_after_first_part(t.body) for t in read) / len(tunes)
        parts = statistics.median(len(f.parts) for f in forms)
        bars = statistics.median(f.bars for f in forms)
        one = sum(len(f.parts) == 1 for f in forms) / len(tunes)
        dance = sum(f.dance_form for f in forms) / len(tunes)
        print(f"| {drafts} | {first:.1%} | {parts:g} | {bars:g} | {one:.1%} | {dance:.1%} |", flush=True)


if __name__ == "__main__":
    main()
