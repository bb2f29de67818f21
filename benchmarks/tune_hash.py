"""Same tunes for a seed: one SHA-256 over 200 sampled tunes under eight option sets.

Run before and after a change that should not change what the sampler writes
(a refactor, a faster decoder); the two digests must be equal::

    python benchmarks/tune_hash.py            # prints "200 tunes <digest>"
    python benchmarks/tune_hash.py --show     # also each option set's own digest
"""

import argparse
import hashlib

import musicgen

OPTION_SETS = [
    {},
    {"header": {"K": "Dmix", "M": "6/8", "R": "jig"}},
    {"prime": "T:Primed\nM:4/4\nL:1/8\nK:D\n|:DEFG"},
    {"end_drafts": 1, "bar_tries": 0},
    {"int8": True},
    {"header": {"K": "G"}, "header_drafts": 4, "end_drafts": 2},
    {"temperature": 0.85, "header": {"R": "reel"}},
    {"int8": True, "header": {"M": "3/4"}, "bar_tries": 2, "end_drafts": 3},
]
TUNES_PER_SET = 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each option set's digest too")
    args = parser.parse_args()
    model = musicgen.load_model()
    digest = hashlib.sha256()
    count = 0
    for options in OPTION_SETS:
        one = hashlib.sha256()
        settings = {"temperature": 1.0, **options}  # fixed here, so a change of default is not a change of tunes
        for tune in musicgen.generate(model, n=TUNES_PER_SET, seed=5, max_length=600, **settings):
            digest.update(tune.abc.encode())
            one.update(tune.abc.encode())
            count += 1
        if args.show:
            print(f"{one.hexdigest()[:16]}  {options}")
    print(count, "tunes", digest.hexdigest())


if __name__ == "__main__":
    main()
