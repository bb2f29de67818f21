"""The abc2midi facts the bar verifier and ending ranker keep tunes within, each checked against abc2midi."""

import pytest

from helpers import abc2midi_messages, needs_abc2midi
from musicgen.abc.melody import read_bar
from musicgen.sampling.facts import abc2midi_refuses, ends_on_tie, malformed_bar, malformed_bars

HORNPIPE = {"R": "hornpipe", "M": "2/4", "L": "1/16", "K": "G"}
PLAIN = {"M": "4/4", "L": "1/8"}


def _tune(body: str, fields: dict[str, str]) -> str:
    header = "".join(f"{letter}:{value}\n" for letter, value in fields.items() if letter != "K")
    return f"X:1\nT:t\n{header}K:{fields.get('K', 'G')}\n{body}\n"


@needs_abc2midi
@pytest.mark.parametrize(
    "bar",
    [
        "d2 T z B2 B2 B",  # a decoration before a rest, a space between
        "v{e}d B2 B2 B2 B",  # ... before grace notes
        "d2 ~ d B2 B2 B",
        'd2 T"C"d B2 B2 B',  # ... before a chord symbol
        "d2 u(AB) B2 B2",  # ... before a slur
        "d2 ~[dg] B2 B2 B",  # a roll on a chord
        "d2 cB AT",  # ... and one at the end of the bar (T|)
        "d2 2 B2 B2 B2",  # a length with no note
        "G>3d B2 B2 B2",  # ... after a broken rhythm
        "d2 B2 / B2 B2",  # a slash with no note
        "d2 B2 ,B2 B2",  # an octave mark with no note
        "d2 b,2 B2 B2",  # ... or one its note cannot take
        "d2 B'2 B2 B2",
        "d2 [B'd]2 B2 B2",
        "d2 B2 \\ B2 B2",  # a line break mark inside a line
        "d2 B2] B2 B2",  # a ] that closes no chord
        "d2 (AB)2 B2 B2",  # a length after a slur
        "d2 (33Bcd B2 B2",  # a tuplet of 33
        "d2 (1B2 B2 B",
        "d2 (3Bcd (3:2:3Bcd B2",  # sound: tuplets of 3
        "d2 B2 B2 ' c2",  # an octave mark after a space
        "d2 B2 {fg} {fg}c2",  # grace notes after grace notes
        "d2 B2 {fg}z{fg}c2",  # sound: a rest between them
        "d2 B/B/ [Bd]/ z/z/ B,/B B2",  # sound: lengths and octave marks on their notes
        "d2 B2 B2 B2 ]",  # sound: ]| is a bar line
        "d2 {/e}d B2 B2 B",  # sound: a slash in grace notes
        "d2 c''2 C,,2 B2",
        "d2 Td B2 B2 B",  # sound: a decoration on its note
        "d2 ~d .z B2 B2",
        "d2 u[dg] B2 B2 B",
        "d2 T^d B2 B2 B",
        "d2 M~d B2 B2 B",
        "d2 !trill!d B2 B2 B",
        'd2 "^T z" d B2 B2 B',  # letters in a text are no decorations
        "d2 B2 B2 B2",
        "d'/6 e/3 f3 B2",  # a length over a number not a power of two
        "A/3 A/3 A/3 B3 B2",
        "B3/6 c3/6 d3 B2",
        "z/3 B/3 B/3 B3 B2",
        "A2/4 B3 B2 B2",  # sound: over 4
        "A3/2 B//c/4 B2 B2 B",
        "d2 B2 {2e}dB B2",  # a length in grace notes before their note
        "d2 B2 {e2}dB B2",  # sound: after it
        "d2 B2 +edcd B2",  # a + that opens no decoration
        "d2 B2 +trill+d B2 B2",  # sound: +trill+
        "Bdz?e dBGB B2",  # a sign abc2midi does not read
        "d2 B2 @B2 B2",
        "d2 B2 #B2 B2",
        "d2 B2 *B2 B2",
        "d2 B2 ;B2 B2",
        'd2 B2 "^why?"B2 B2',  # sound: in a text
        "d2 B2 ^4 B2 B2",  # an accidental with no note
        "d2 B2 _ B2 B2",
        "d2 B2 = B2 B2",
        "d2 B2 B2 B2 ^",
        "d2 ^^B2 __B2 =B2",  # sound: double accidentals and a natural on their notes
        "d2 B2 ^4B2 ^3/4B2",  # sound: microtonal accidentals
        "d2 [^B^d]2 B2 B2",  # sound: in a chord
    ],
)
def test_a_malformed_bar_is_one_abc2midi_reports_an_error_in(bar, tmp_path):
    errors = abc2midi_messages(_tune(bar + "|", {"M": "4/4", "L": "1/8"}), tmp_path)
    assert malformed_bar(bar) == bool(errors), errors


@needs_abc2midi
@pytest.mark.parametrize(
    "fields, body",
    [
        (HORNPIPE, "v.DuD|G2 BdAG|"),  # the pickup's pair: a staccato on its first note only
        (HORNPIPE, "G2 B.dAG|G4 BdAG|"),
        (HORNPIPE, "G2 BdA.G|G4 BdAG|"),
        (HORNPIPE, "Bd>BG F>dB>G|"),  # a written > after the second note of a pair
        (HORNPIPE, "B>dBG F>dB>G|"),  # sound: the > begins a pair
        (HORNPIPE, ".G2 BdAG|G4 BdAG|"),  # a staccato on a note no pair holds
        (HORNPIPE, "G2 .B.d.A.G|G4 BdAG|"),  # both notes of each pair staccato
        (HORNPIPE, "G2 {c}B.dAG|G4 BdAG|"),  # grace notes part the pair
        ({**HORNPIPE, "M": "4/4", "L": "1/16"}, "G2 BdA.G G4 BdAG G4|"),  # 4/4 pairs eighths, not these
        ({**HORNPIPE, "M": "4/4", "L": "1/8"}, "G2 .B2 .G2 B.d.A.G|"),
        ({**HORNPIPE, "R": "reel"}, "G2 B.dAG|G4 BdAG|"),  # no hornpipe, no pairs
        ({**HORNPIPE, "R": "reel"}, "G2 .B>dAG G2 BdAG|"),  # a written > over a staccato note and a plain one
        ({**HORNPIPE, "R": "reel"}, "G2 B>.dAG G2 BdAG|"),
        ({**HORNPIPE, "R": "reel"}, "G2 .B>.dAG G2 BdAG|"),
        ({**HORNPIPE, "R": "reel"}, "G2 HB>dAG G2 BdAG|"),  # a fermata, as a staccato
        ({**HORNPIPE, "R": "reel"}, "G2 !fermata!B>dAG G2 BdAG|"),
        ({**HORNPIPE, "R": "reel"}, "G2 HB>HdAG G2 BdAG|"),
        ({**HORNPIPE, "R": "reel"}, "G2 ~B>dAG G2 BdAG|"),  # a roll leaves the length alone
        (HORNPIPE, "G2 Bd HAG|G4 BdAG|"),  # a fermata on a hornpipe pair's note
        (PLAIN, "G2- A2 B2 c2|"),  # a tie to another pitch
        (PLAIN, "G2- z2 G2 c2|"),  # ... to a rest
        (PLAIN, "[GB]2- A2 B2 c2|"),
        (PLAIN, "G2- |G2 B2 c2 c2|"),  # sound: over a bar line
        (PLAIN, "[GB]2- [GB]2 B2 c2|"),
        (PLAIN, "G2- [GB]2 B2 c2|"),
        (PLAIN, "G2-~G2 B2 c2|"),  # a tie to a rolled note: abc2midi plays the roll as grace notes
        (PLAIN, "G2-(~G2{GA}G2) c2|"),
        (PLAIN, "G2- ~A2 B2 c2|"),
        (PLAIN, "G2-TG2 B2 c2|"),  # sound: a trill keeps the tie
        (PLAIN, "G2-{GA}G2 B2 c2|"),  # sound: grace notes written out
        (PLAIN, "~G2-G2 B2 c2|"),  # sound: the roll before the tie
        (PLAIN, "-G2 G2 B2 c2|"),  # a tie after nothing
        (PLAIN, "z2- G2 B2 c2|"),  # ... after a rest
        (PLAIN, "G2 B2 c2 z2|-G2 B2 c2 c2|"),  # ... over a bar line
        (PLAIN, "G2 B2 c2 c2|-c2 B2 c2 c2|"),  # sound: to the last bar's note
        (PLAIN, "G2 (3-GGG B2 c2|"),  # sound: into a tuplet
        (PLAIN, "(3(A{f}(3edc) B2 G4|"),  # a tuplet inside a tuplet
        (PLAIN, "(3A(Bc) (3edc B2 G2|"),  # sound: one after the other
    ],
)
def test_what_the_reader_warns_abc2midi_refuses_is_what_abc2midi_reports(fields, body, tmp_path):
    """Broken rhythms (written or a hornpipe's), ties and tuplets."""
    errors = abc2midi_messages(_tune(body, fields), tmp_path)
    warnings = [w for w in read_bar(fields, body)[2] if abc2midi_refuses(w)]
    assert bool(warnings) == bool(errors), (warnings, errors)


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        '|:GAB "^a|b" cBA|GAB G3:|',  # a | inside a text is no bar line
        "|:GAB cBA|[1 GAB G3:|[2 GAB G2 z||",
        "GAB cBA[|GAB G3|]",
        '|:GAB cBA|GAB "^D.C." G3:|',
        '|:GAB "^open cBA|GAB G3:|',
        "|:GAB cBA|GAB G3 T:|",
        "|:GAB cBA|GAB 3 G3:|",
        "|:GAB cBA|GAB G3:|\n|:1 vc {BA}G2 G,|DB,G, G3:|",  # a number after |: (the bundled model wrote it)
        "|:GAB cBA|GAB G3::1GAB cBA|GAB G3:|",
        "|:GAB cBA|1 GAB G3:|2 GAB G3|]",  # sound: endings after | and :|
    ],
)
def test_a_whole_body_is_malformed_where_abc2midi_reports_an_error_in_a_bar(body, tmp_path):
    errors = abc2midi_messages(_tune(body, {"M": "6/8", "L": "1/8"}), tmp_path)
    assert malformed_bars(body) == bool(errors), errors


def test_a_denominator_of_thousands_of_digits_is_malformed_not_a_crash():
    assert malformed_bar("A/" + "9" * 5000 + " B2 B2 B2")
    assert malformed_bar("A/" + "1" + "0" * 30 + " B2")  # more digits than any note length needs
    assert not malformed_bar("A/0 B3 c4") and not malformed_bar("A/64 B c4")  # abc2midi takes both


@needs_abc2midi
@pytest.mark.parametrize(
    "body",
    [
        "|:GAB cBA|GAB G3-:|",  # the tune ends on a tie
        "GAB cBA|GAB G3-|]",
        '|:GAB cBA|GAB G3- "^fine":|',
        "|:GAB cBA|GAB G3-:|G3 cBA|]",  # sound: a note to tie to after the repeat
        "|:GAB cBA|GAB G3:|",
    ],
)
def test_a_finished_tune_ending_on_a_tie_is_one_abc2midi_reports_an_error_in(body, tmp_path):
    errors = abc2midi_messages(_tune(body, {"M": "6/8", "L": "1/8"}), tmp_path)
    assert ends_on_tie(body) == bool(errors), errors
