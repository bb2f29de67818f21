"""What abc2midi accepts, in one table: the facts the sampler's rules and verifiers keep tunes within.

abc2midi is the reference player every ABC user has; a tune it reports an
error in is one a user cannot play as written. Each fact below is checked
against abc2midi 4.84 in the tests (``tests/sampling``).
"""

from __future__ import annotations

import re

from musicgen.model.vocab import END

#: The meters abc2midi plays a hornpipe in: ``R:hornpipe...`` with any other
#: (``M:C|`` and ``M:2/2`` included) is an error to it.
HORNPIPE_METERS = ("2/4", "4/4", "C")

#: A tune-type line that makes a tune a hornpipe to abc2midi (``R:triple hornpipe`` is not one).
HORNPIPE_LINE = re.compile(r"^R:\s*hornpipe", re.IGNORECASE | re.MULTILINE)

#: What an ending's number follows: ``|1``, ``[1``, ``:|1``.
ENDING_STARTS = ("|", "[", ":|")

#: Ending numbers never written after those: the corpus numbers its endings 1 and 2
#: only, and abc2midi reads ``|3``, ``[4`` or ``|0`` without a first ending as a repeat error.
UNUSED_ENDINGS = "03456789"

#: What may follow the ``|`` that ends a bar shorter than the meter (not the
#: pickup) for the bar to stand: ``||`` or ``|]`` ends a section there, as
#: ``:|`` does, or the tune ends.
SHORT_BAR_ENDS = "|]" + END

#: A chord's opening ``[`` (not ``[|``, an ending ``[1`` or an inline field ``[K:``).
CHORD_START = re.compile(r"\[(?![|\d]|[A-Za-z]:)")

#: What abc2midi will not read inside a chord: another chord, a bar line, a
#: broken rhythm, grace notes, a text.
NOT_IN_CHORD = re.compile(r"[\[|<>{}\"]")

#: The facts by name, with what each keeps out: the documentation's table.
FACTS = {
    "hornpipe meters": (HORNPIPE_METERS, "a hornpipe in a meter abc2midi refuses for one"),
    "ending numbers": (UNUSED_ENDINGS, "an ending numbered other than 1 or 2 (a repeat error)"),
    "repeat order": (
        None,
        "a first ending or :: after :| without a new |:, |: inside an open repeat, "
        "a second ending without a first (repeat errors)",
    ),
    "chord contents": (
        NOT_IN_CHORD.pattern,
        "a chord holding a chord, a bar line, a broken rhythm, grace notes or text",
    ),
    "open marks": (None, "a bar leaving a chord, a text, a decoration or grace notes open"),
    "broken rhythm": (None, "a broken rhythm (> or <) over notes of unequal length"),
    "parts defined": (None, "a header P: naming a part that no P: line of the body defines, or P: with none defined"),
}

#: A part's definition in the body: a ``P:`` line or an inline ``[P:A]``.
BODY_PART = re.compile(r"(?:^|\[)P:\s*([A-Za-z])", re.MULTILINE)


def parts_defined(order: str, body: str) -> bool:
    """Whether abc2midi finds every part a header ``P:`` play order names (``ABA``, ``A2(BA)``) in the body.

    A header ``P:`` with no part defined in the body is an error to abc2midi too ("P: field in header
    should go after K: field"); a tune without a header ``P:`` needs nothing.
    """
    named = set(re.findall(r"[A-Za-z]", order))
    defined = set(BODY_PART.findall(body))
    return not named or (bool(defined) and named <= defined)


def malformed_bar(text: str) -> bool:
    """Whether a bar's text leaves a chord, text or grace notes open, or puts in a chord what abc2midi refuses there."""
    if text.count('"') % 2:
        return True
    text = re.sub(r'"[^"]*"', "", text)
    if text.count("{") != text.count("}"):
        return True
    if re.search(r"!(?!\n)", re.sub(r"![^!\s|]*!", "", text)):  # a ! left open (a lone ! ends a line)
        return True
    for chord in CHORD_START.finditer(text):
        end = text.find("]", chord.end())
        if end < 0 or NOT_IN_CHORD.search(text, chord.end(), end):
            return True
    return False
