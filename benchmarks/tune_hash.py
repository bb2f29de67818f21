"""Same tunes for a seed: one SHA-256 over 250 sampled tunes under ten option sets.

Run before and after a change that should not change what the sampler writes
(a refactor, a faster decoder); the two digests must be equal::

    python benchmarks/tune_hash.py            # prints "250 tunes <digest>"
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
    # an asked-for form, as a plain `musicgen generate` asks (the form_end rule at work)
    {"header": {"N": "AABB 8"}, "max_length": 1500},
    {"int8": True, "header": {"N": "AABB 8", "R": "jig"}, "max_length": 1500, "end_drafts": 2},
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
        # fixed here, so a change of default is not a change of tunes
        settings = {"temperature": 1.0, "max_length": 600, **options}
        for tune in musicgen.generate(model, n=TUNES_PER_SET, seed=5, **settings):
            digest.update(tune.abc.encode())
            one.update(tune.abc.encode())
            count += 1
        if args.show:
            print(f"{one.hexdigest()[:16]}  {options}")
    print(count, "tunes", digest.hexdigest())


if __name__ == "__main__":
    main()
