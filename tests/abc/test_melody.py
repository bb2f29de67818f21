"""ABC -> notes: a conformance suite, with hand-checked answers and abc2midi as oracle."""

from fractions import Fraction

import pytest

from helpers import needs_abc2midi
from musicgen.abc.melody import abc_to_melody, expand_parts, read_bar
from musicgen.errors import ConversionError


def notes(body, header="M:4/4\nL:1/4\nK:C\n"):
    """Notes as 'pitch@onset/length' in quarter-note beats."""
    melody = abc_to_melody(f"X:1\nT:t\n{header}{body}\n")
    return " ".join(f"{n.pitch}@{float(n.start * 4):g}/{float(n.length * 4):g}" for n in melody.notes)


# (feature, body, header or None, expected notes) -- answers worked out from ABC 2.1 by hand
CASES = [
    ("repeat from the start", "CD:|", None, "60@0/1 62@1/1 60@2/1 62@3/1"),
    ("AABB: :| repeats from the last :|", "C:|D:|", None, "60@0/1 60@1/1 62@2/1 62@3/1"),
    ("start repeat", "C|:D:|", None, "60@0/1 62@1/1 62@2/1"),
    ("first and second endings", "|:C|1D:|2E|", None, "60@0/1 62@1/1 60@2/1 64@3/1"),
    ("endings with [1 [2", "|:C|[1D:|[2E|]", None, "60@0/1 62@1/1 60@2/1 64@3/1"),
    ("accidental carries to the end of the bar, all octaves", "^F F f|F", None, "66@0/1 66@1/1 78@2/1 65@3/1"),
    ("key signature and natural", "F =F|F", "M:4/4\nL:1/4\nK:G\n", "66@0/1 65@1/1 66@2/1"),
    ("mode", "F B c", "M:4/4\nL:1/4\nK:Dmix\n", "66@0/1 71@1/1 72@2/1"),
    ("dorian", "F B c", "M:4/4\nL:1/4\nK:Ador\n", "66@0/1 71@1/1 72@2/1"),
    ("explicit key accidentals", "F B", "M:4/4\nL:1/4\nK:D exp _b\n", "65@0/1 70@1/1"),
    ("octaves", "C, c c'", None, "48@0/1 72@1/1 84@2/1"),
    ("lengths", "C2 D/ E// F3/2 G/4", None, "60@0/2 62@2/0.5 64@2.5/0.25 65@2.75/1.5 67@4.25/0.25"),
    ("rests take time", "C z D x/ E", None, "60@0/1 62@2/1 64@3.5/1"),
    ("multi-bar rest", "C4|Z2|D", None, "60@0/4 62@12/1"),
    ("broken rhythm", "C>D E<F C>>D", None, "60@0/1.5 62@1.5/0.5 64@2/0.5 65@2.5/1.5 60@4/1.75 62@5.75/0.25"),
    ("triplet", "(3CDE F", None, "60@0/0.666667 62@0.666667/0.666667 64@1.33333/0.666667 65@2/1"),
    ("tuplet p:q:r", "(3:2:2CD E", None, "60@0/0.666667 62@0.666667/0.666667 64@1.33333/1"),
    ("compound triplet", "(3CDE", "M:6/8\nL:1/8\nK:C\n", "60@0/0.333333 62@0.333333/0.333333 64@0.666667/0.333333"),
    ("tie across the bar, accidental kept", "^C2-|C2 C", None, "61@0/4 60@4/1"),
    ("tied chord", "[CE]-[CE] G", None, "60@0/2 64@0/2 67@2/1"),
    ("chord length from first note", "[C2E2] [CE]3", None, "60@0/2 64@0/2 60@2/3 64@2/3"),
    ("grace notes take no time", "{AB}C {/d}D", None, "60@0/1 62@1/1"),
    ("chord symbols and decorations are silent", '"Am"C ~D !trill!E .F', None, "60@0/1 62@1/1 64@2/1 65@3/1"),
    ("inline key and length", "C [K:G] F [L:1/8] F", None, "60@0/1 66@1/1 66@2/0.5"),
    ("key change on its own line", "F\nK:D\nF C", None, "65@0/1 66@1/1 61@2/1"),
    ("default L: from the meter", "C D", "M:2/4\nK:C\n", "60@0/0.25 62@0.25/0.25"),
    ("overlay ignored", "C D & E F|G", None, "60@0/1 62@1/1 67@2/1"),
    ("old ! line break", "C D!\nE F", None, "60@0/1 62@1/1 64@2/1 65@3/1"),
]


@pytest.mark.parametrize("feature, body, header, expected", CASES, ids=[c[0] for c in CASES])
def test_conformance(feature, body, header, expected):
    assert notes(body, header or "M:4/4\nL:1/4\nK:C\n") == expected


def test_parts_play_in_header_order():
    abc = "X:1\nT:t\nM:4/4\nL:1/4\nP:ABA\nK:C\nP:A\nC D|\nP:B\nE F|\n"
    assert [n.pitch for n in abc_to_melody(abc).notes] == [60, 62, 64, 65, 60, 62]
    assert expand_parts("A2B") == "AAB" and expand_parts("(AB)2C") == "ABABC"
    assert expand_parts("A.B.A") == "ABA"


def test_tempo_title_and_length():
    melody = abc_to_melody("X:1\nT:Tempo\nM:4/4\nL:1/8\nQ:3/8=60\nK:C\nCDEF|\n")
    assert melody.tempo_qpm == 90 and melody.title == "Tempo"
    assert melody.length == Fraction(1, 2)
    assert melody.seconds(Fraction(1, 4)) == pytest.approx(60 / 90)


@pytest.mark.parametrize(
    "abc, message",
    [
        ("X:1\nT:t\nK:C\n", "no notes in the body"),
        ("X:1\nT:t\nL:0\nK:C\nC|\n", "L:0"),
        ("X:1\nT:t\nM:0/0\nK:C\nC|\n", "zero part"),
        ("X:1\nT:t\nK:H#\nC|\n", "unknown key"),
        ("X:1\nT:t\nK:Dfoo\nC|\n", "unknown mode"),
        ("X:1\nT:t\nK:C\nA99999999|\n", "out of range"),
        ("X:1\nT:t\nK:C\nA999999|\n", "too long"),
        ("X:1\nT:t\nQ:0\nK:C\nC|\n", "tempo must be positive"),
        ("X:7\nT:Named\nK:C\nz4|\n", "X:7 (Named): no notes in the body"),
        ("X:8\nT:Rests\nK:C\n[K:D] z4|\n", "X:8 (Rests): no notes in the body"),
    ],
)
def test_impossible_tunes_raise_conversion_error(abc, message):
    with pytest.raises(ConversionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        abc_to_melody(abc)


ORACLE_TUNES = [
    "X:1\nT:Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA|\nGAG GAB|ABA ABd|edd gdB|AGF G3:|\n|:BAB dBd|ege dBA|BAB dBG|ABA AGA|\nBAB dBd|ege dBd|gfg aga|bgf g3:|\n",  # noqa: E501
    "X:2\nT:Endings\nM:4/4\nL:1/8\nK:D\n|:d2fd c2ec|defg afge|1 d2fd c2ec:|2 BABc dAFD||\n",
    "X:3\nT:Triplets and ties\nM:3/4\nL:1/8\nK:Ador\n(3ABc d2 e2-|e2 ^f2 g2|(3agf e4|]\n",
    "X:4\nT:Broken\nM:2/4\nL:1/16\nK:Bb\nB3c d>ef>g|a2b2 f4|=e>fg<a b4|]\n",
    "X:5\nT:Chords\nM:4/4\nL:1/4\nK:C\n[CEG]2 [DF]>[EG] | [C2E2] z2 |]\n",
    "X:6\nT:AABB\nM:4/4\nL:1/8\nK:G\ncdef|gfed:|cdef|gfed:|\n",
    # a broken rhythm after a chord applies whatever the lengths (abc2midi; issue 23)
    "X:7\nT:Chord broken\nM:4/4\nL:1/8\nK:C\n[C2E2]>G CD [CE]2>G CD|[C2E2]>G2 C2 E2|\n",
    "X:8\nT:Two voices\nM:4/4\nL:1/8\nK:G\nV:1\n|:GABc d2B2:|\nV:2\n|:G,2D,2 G,4:|\n",
    "X:9\nT:Voices in parts\nM:6/8\nL:1/8\nP:AB\nK:D\nP:A\n[V:1] d2e fed|A3 A3:|\n[V:2] F2G AGF|E3 E3:|\n"
    "P:B\n[V:1] a2g f2e|d6|]\n[V:2] f2e d2c|D6|]\n",
]


@needs_abc2midi
@pytest.mark.parametrize("abc", ORACLE_TUNES, ids=[t.split("\n")[1] for t in ORACLE_TUNES])
def test_agrees_with_abc2midi(abc, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from convert_agreement import compare

    outcome, f1, _, message = compare(abc, tmp_path)
    assert outcome == "agree", f"F1 {f1}: {message}"


def test_fuzz_findings_stay_fixed():
    from musicgen.render.midi import melody_to_midi_file

    # Q:1/4=1 asked MIDI for a tempo it cannot store (mido raised ValueError)
    slow = abc_to_melody("X:1\nT:t\nQ:1/4=1\nK:C\nCDE|\n")
    with pytest.raises(ConversionError, match="tempo must be in range 4..1000"):
        melody_to_midi_file(slow)
    # a 50,000-note line took seconds to read and score: bodies are bounded
    with pytest.raises(ConversionError, match="longer than 10,000 characters"):
        abc_to_melody("X:1\nT:t\nK:C\n" + "A" * 50_000 + "\n")
    # unbalanced parentheses in P: looped forever
    assert expand_parts("(A(") == "A" and expand_parts("(((") == ""
    # a zero denominator after a chord escaped evaluate as ZeroDivisionError (fuzz, 100k run)
    from musicgen.abc.tunebook import parse_tune
    from musicgen.evaluation.evaluate import score_tune

    tune = parse_tune("X:4\nT:F\nM:C|\nL:1/8\nK:D\nDEFG|x4[M[M:0/0]0/0] z4|y A2 &B2|]\n")
    assert not score_tune(tune, use_abc2midi=False).converts
    with pytest.raises(ConversionError, match="out of range"):
        abc_to_melody("X:1\nT:t\nK:C\nA" + "9" * 5000 + "|\n")


@pytest.mark.parametrize("second_ending_end", ["||", "|]", "||:"])
def test_a_b_part_after_endings_repeats_itself_not_part_a(second_ending_end):
    # |:A|1..:|2..||B:| is played A, A (second ending), B, B, as a musician reads it (issue 23);
    # abc2midi 4.84 goes back to A's |: instead
    abc = f"X:1\nM:4/4\nL:1/4\nK:C\n|:CDEF|1G4:|2A4{second_ending_end}cdef|g4:|\n"
    names = {60: "C", 62: "D", 64: "E", 65: "F", 67: "G", 69: "A", 72: "c", 74: "d", 76: "e", 77: "f", 79: "g"}
    assert "".join(names[n.pitch] for n in abc_to_melody(abc).notes) == "CDEFG" + "CDEFA" + "cdefg" * 2


def test_voices_are_read_apart_each_from_the_header():
    melody = abc_to_melody(
        "X:1\nT:t\nM:4/4\nL:1/8\nV:1 name=Top\nV:B clef=bass\nK:D\nV:1\n|:DEFG A4:|\nV:B\n|:^F,4 A,4:|\n"
    )
    assert [n.pitch for n in melody.notes[:5]] == [62, 64, 66, 67, 69] and len(melody.notes) == 10
    assert [(v.name, [n.pitch for n in v.notes]) for v in melody.voices] == [("B", [54, 57, 54, 57])]
    assert abc_to_melody("X:1\nT:t\nK:D\nDEF|\n").voices == []


def test_a_bar_read_again_reads_the_same_and_a_long_one_is_read_too():
    fields = {"M": "6/8", "L": "1/8", "K": "G"}
    first = read_bar(fields, "c2e d2>c")
    first[2].append("changed by a caller")  # the warnings are the caller's own list
    warned = ["bar 1: broken rhythm over unequal notes ignored"]
    assert read_bar(fields, "c2e d2>c") == (Fraction(3, 4), Fraction(3, 4), warned)
    assert read_bar({**fields, "L": "1/16"}, "c2e d2>c")[0] == Fraction(3, 8)  # the fields are part of the reading
    long = "c2e d2c " * 100  # longer than what is remembered: read each time
    assert read_bar(fields, long)[0] == read_bar(fields, long)[0] == Fraction(600, 8)
