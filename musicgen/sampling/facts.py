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
NOT_IN_CHORD_CHARS = '[|<>{}"'
NOT_IN_CHORD = re.compile(f"[{re.escape(NOT_IN_CHORD_CHARS)}]")

#: abc2midi's one-character decorations (``~`` roll, ``.`` staccato, ``T`` trill, ``u``/``v`` bowings...).
DECORATION_SIGNS = "~.HLMOPSTuvJR"

#: A one-character decoration abc2midi finds no note after ("Malformed note"): one must come
#: next, through more decorations or an accidental; a rest or a chord may too, but no chord
#: after a roll or trill.
LOOSE_DECORATION = re.compile(
    rf"[~T](?![{DECORATION_SIGNS}^=_A-Ga-gzx])|[{DECORATION_SIGNS}](?![{DECORATION_SIGNS}^=_A-Ga-gzx\[])"
)

#: Signs with no note to belong to: a length after a space, a line break, a broken rhythm or a slur
#: (``d2 2``, ``| 2``, ``G>3``, ``(AB)2``; ``|2`` and ``[2`` are endings), a ``/`` after none (``(AG) / g``), an
#: octave mark after none (`` ,``, `` '``), a ``\\`` that does not end
#: its line, and a ``]`` that closes no chord (``G3]``; one before the bar's ``|`` is the ``]|`` bar line,
#: one first in the bar is the ``]`` of ``|]``); and a tuplet other than ``(2`` to ``(9`` (``(33efg``).
STRAY_SIGN = re.compile(
    r"(?<=[\s<>)])\d"  # a length
    r"|(?<![A-Ga-gzxZX,'\d/\[])/"  # a slash
    r"|(?<![A-G,\d]),|(?<![a-g'])'"  # octave marks
    r"|\\(?!\n)"  # a line break mark
    r"|(?<=.)\](?=.)"  # a chord's close
    r"|\((?:1|\d\d)",  # a tuplet abc2midi has no rhythm for
    re.DOTALL,
)

#: An accidental with no note after it (``^4 A``, ``_ A``, ``=|``): "Malformed note" to abc2midi (``^^`` and
#: ``__`` are double accidentals, ``^3/4A`` a microtonal one).
LOOSE_ACCIDENTAL = re.compile(r"[\^_=](?![\^_]?\d*/?\d*[A-Ga-g])")

#: An octave mark a note cannot take, in a chord or not: ``'`` raises a lower-case note, ``,`` lowers a capital.
BAD_OCTAVE = re.compile(r"[A-G]'|[a-g],")

#: Two groups of grace notes with no note between them (``{fg} {fg}``).
GRACE_AFTER_GRACE = re.compile(r"\}[^A-Ga-gzx{]*\{")
#: Signs abc2midi does not read in music, outside texts and fields ("Unrecognized character", "*'s in
#: middle of line ignored"); the model has them from titles.
UNREAD_SIGNS = re.compile(r"[?@#*;]")

#: A length in grace notes before any note (``{2e}``: "Unrecognized character").
GRACE_LENGTH_FIRST = re.compile(r"\{[^}A-Ga-g]*\d")

#: A number right after a repeat's colon (``|:1``, ``::2``; endings follow ``|``, ``:|`` or ``[``):
#: "Unrecognized character". Read with tuplets' ``(p:q:r`` taken out (:data:`TUPLET_SPEC`).
COLON_NUMBER = re.compile(r":\d")
#: A tuplet's numbers (``(3``, ``(3:2:3``, ``(5::``), whose colons are not a repeat's.
TUPLET_SPEC = re.compile(r"\(\d+(?::\d*){0,2}")

#: A body that ends on a tie (``A4- :|`` last): abc2midi finds no note to tie it to.
TIE_AT_END = re.compile(r"-[\s:|\]]*$")

#: A length's written denominator (``A3/6``, ``z/3``): abc2midi needs a power of two there.
DENOMINATOR = re.compile(r"/(\d+)")

#: What a bar's music is read without (each becomes a space): texts, ``!decorations!``, grace notes,
#: inline fields, field lines, comments.
NOT_MUSIC = re.compile(r'"[^"]*"|![^!\s|]*!|\{[^}]*\}|\[[A-Za-z]:[^\]\n]*\]|^[A-Za-z]:.*$|%.*$', re.MULTILINE)

#: A chord, read as its ``[`` alone (:data:`NOT_IN_CHORD` judges its insides; its ``]`` is its own).
CHORD = re.compile(r"\[[^\]\[|]*\]")

#: The facts by name, with what each keeps out: the documentation's table.
FACTS = {
    "hornpipe meters": (HORNPIPE_METERS, "a hornpipe in a meter abc2midi refuses for one"),
    "ending numbers": (UNUSED_ENDINGS, "an ending numbered other than 1 or 2 (a repeat error)"),
    "repeat order": (
        None,
        "a first ending or :: after :| without a new |:, |: inside an open repeat, "
        "a second ending without a first or after a second ending's :| (repeat errors)",
    ),
    "chord contents": (
        NOT_IN_CHORD.pattern,
        "a chord holding a chord, a bar line, a broken rhythm, grace notes or text",
    ),
    "open marks": (
        None,
        "a bar leaving a chord, a text, a decoration or grace notes open; grace notes after grace notes",
    ),
    "broken rhythm": (
        None,
        "a broken rhythm (> or <, or a hornpipe's swung pairs) over notes of unequal length, "
        "or over a note marked staccato or fermata and a plain one",
    ),
    "loose accidentals": (LOOSE_ACCIDENTAL.pattern, "an accidental with no note after it (^4 A, _ A)"),
    "loose decorations": (DECORATION_SIGNS, "a one-character decoration with no note after it (T z, v{e}d, ~ d)"),
    "stray signs": (
        STRAY_SIGN.pattern,
        "a length, slash or octave mark with no note (d2 2, G>3, (AB)2, (AG) / g, ,B) or one its note cannot take "
        "(B', b,), a \\ inside a line, "
        "a ] that closes no chord",
    ),
    "length denominators": (DENOMINATOR.pattern, "a note length over a number not a power of two (A/3, d'/6)"),
    "ties": (
        None,
        "a tie to a note or chord that does not go on with its pitch, or to a rest; a tie after a rest or nothing",
    ),
    "tuplets": (None, "a tuplet begun inside a tuplet, one other than (2 to (9"),
    "grace lengths": (GRACE_LENGTH_FIRST.pattern, "a length in grace notes before their first note ({2e})"),
    "open plus": (None, "a + that opens no +decoration+ (abc2midi ignores it, with an error)"),
    "tie at the end": (TIE_AT_END.pattern, "a tune that ends on a tie (A4- :| last)"),
    "repeat numbers": (COLON_NUMBER.pattern, "a number after a repeat's colon (|:1, ::2; endings follow | or :|)"),
    "unread signs": (UNREAD_SIGNS.pattern, "a ? @ # * or ; in the music (outside texts and fields)"),
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


#: What the ABC reader warns of (:func:`musicgen.abc.melody.read_bar`) that abc2midi reports as an error.
REFUSED_WARNINGS = ("broken rhythm", "tie to a note", "tie after a rest", "nested tuplet")


def abc2midi_refuses(warning: str) -> bool:
    """Whether a reader's warning is one abc2midi reports as an error (a broken rhythm it cannot apply,
    a tie to nothing, a tuplet inside a tuplet)."""
    return any(refused in warning for refused in REFUSED_WARNINGS)


def _power_of_two(digits: str) -> bool:
    """Whether a written denominator is one abc2midi takes (it ignores ``/0``); one of more digits than
    any note length needs is not, and is not converted (Python refuses numbers of over 4,300 digits)."""
    if len(digits) > 18:
        return False
    number = int(digits)
    return not number & (number - 1)


def malformed_bar(text: str) -> bool:
    """Whether a bar's text leaves a chord, text, grace notes or a ``!``/``+`` decoration open, puts in a chord
    what abc2midi refuses there, has a decoration, accidental or length with no note (in grace notes too), a length
    over a number not a power of two, a number after a repeat's colon, or a sign abc2midi does not read
    (:data:`UNREAD_SIGNS`)."""
    if text.count('"') % 2:
        return True
    music = NOT_MUSIC.sub(" ", text)
    if BAD_OCTAVE.search(music) or UNREAD_SIGNS.search(music) or LOOSE_ACCIDENTAL.search(music):
        return True
    if not all(_power_of_two(digits) for digits in DENOMINATOR.findall(music)):
        return True
    music = CHORD.sub("[", music)
    if LOOSE_DECORATION.search(music) or STRAY_SIGN.search(music) or COLON_NUMBER.search(TUPLET_SPEC.sub("(", music)):
        return True
    text = re.sub(r'"[^"]*"', "", text)
    if text.count("{") != text.count("}") or GRACE_AFTER_GRACE.search(text) or GRACE_LENGTH_FIRST.search(text):
        return True
    if re.search(r"!(?!\n)", re.sub(r"![^!\s|]*!", "", text)):  # a ! left open (a lone ! ends a line)
        return True
    if "+" in re.sub(r"\+[^+\s|]*\+", "", text):  # a + left open
        return True
    for chord in CHORD_START.finditer(text):
        end = text.find("]", chord.end())
        if end < 0 or NOT_IN_CHORD.search(text, chord.end(), end):
            return True
    return False


#: A bar line as the bar verifier meets it (the ``:`` of a repeat stays with its bar; ``[|`` and ``|]`` are one).
_BAR_LINE = re.compile(r"\[\||\|\]|\|")


def malformed_bars(body: str) -> bool:
    """Whether any bar of a whole tune body is a :func:`malformed_bar` (what the ending ranker checks
    where a bar stood after its redraws ran out)."""
    if body.count('"') % 2:
        return True
    body = re.sub(r'"[^"]*"', lambda text: text.group().replace("|", "/"), body)  # a | in a text is no bar line
    return any(malformed_bar(bar) for bar in _BAR_LINE.split(body))


def ends_on_tie(body: str) -> bool:
    """Whether a finished tune's body ends on a tie (``A4- :|`` last), which abc2midi finds no note for."""
    return bool(TIE_AT_END.search(re.sub(r'"[^"]*"', "", body)))
