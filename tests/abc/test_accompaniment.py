"""Chord symbols played as bass and chords: by hand, and note for note against abc2midi."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from helpers import needs_abc2midi
from musicgen.abc.accompaniment import accompany
from musicgen.abc.melody import abc_to_melody


def _times(notes):
    return sorted({n.start for n in notes})


def test_a_reel_bar_is_bass_chord_bass_chord():
    band = accompany(abc_to_melody('X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"G"GABc "D7"d2 "Em"e2|\n'))
    assert [(n.start, n.pitch) for n in band.bass] == [(F(0), 43), (F(1, 2), 38)]
    # the chord on beat 4 is the Em that starts there; the D7's own chord step is never reached
    assert [(n.start, n.pitch) for n in band.chords] == [(F(1, 4), p) for p in (55, 59, 62)] + [
        (F(3, 4), p) for p in (52, 55, 59)
    ]
    assert {n.length for n in band.bass + band.chords} == {F(1, 8)}


def test_no_chord_symbols_no_accompaniment():
    band = accompany(abc_to_melody('X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"^Fine"GABc d4|\n'))
    assert not band and not band.warnings


def test_pickup_without_chord_is_silent_and_the_pattern_starts_at_the_bar():
    band = accompany(abc_to_melody('X:1\nT:t\nM:6/8\nL:1/8\nK:G\nD|"G"G3 B3|\n'))
    assert _times(band.bass) == [F(1, 8), F(1, 8) + F(3, 8)]


def test_unknown_symbol_is_reported_and_the_chord_goes_on():
    band = accompany(abc_to_melody('X:1\nT:t\nM:2/4\nL:1/8\nK:G\n"G"G4|"Gd"G4|\n'))
    assert {n.pitch for n in band.bass} == {43} and len(band.bass) == 2


def test_written_gchord_pattern_is_used():
    abc = 'X:1\nT:t\nM:4/4\nL:1/8\nK:G\n%%MIDI gchord f2c2\n"G"G8|\n'
    band = accompany(abc_to_melody(abc))
    assert _times(band.bass) == [F(0)] and _times(band.chords) == [F(1, 2)]
    assert {n.length for n in band.bass} == {F(1, 2)}


def test_bad_gchord_pattern_falls_back_to_the_meter_with_a_warning():
    band = accompany(abc_to_melody('X:1\nT:t\nM:2/4\nL:1/8\nK:G\n%%MIDI gchord fxc\n"G"G4|\n'))
    assert _times(band.bass) == [F(0)] and any("gchord" in w for w in band.warnings)


# Tunes where abc2midi's timing is subtle: a pickup after a repeat continues the short last bar's
# pattern, a repeat in a tune played by P: starts it again, a meter change, first and second endings.
ORACLE_TUNES = [
    'X:1\nT:Pickup and repeat\nM:4/4\nL:1/4\nK:D\nA|"D"d4|"A7"c3:|\n',
    'X:2\nT:Repeat bar\nM:4/4\nL:1/4\nK:D\n|:"D"d4|d3:|"G"g4|\n',
    'X:3\nT:Parts\nP:AAB\nM:4/4\nL:1/4\nK:D\nP:A\nA|"D"d4|d3:|\nP:B\nB|"G"g4|g3|\n',
    'X:4\nT:Endings\nM:6/8\nL:1/8\nK:G\n|:"G"GAB "D"def|1"G"g3 "D7"d3:|2"G"g6||\n',
    'X:5\nT:Meter change\nM:6/8\nL:1/8\nK:G\n"G"G2A B2A|"C"c6|\nM:4/4\nL:1/4\n"G"d2 "C"ge|"D7/f#"d4|\n',
    'X:6\nT:Slash chords\nM:3/4\nL:1/4\nK:Am\n"Am"A2 "Am/g"G|"F/a"A2 "E7/g#"^G|"Am"A3|\n',
    'X:7\nT:Long and short bars\nM:3/4\nL:1/8\nK:G\n"G"G8|"C"c4|"D"d6|\n',
    'X:8\nT:Pattern\nM:3/2\nL:1/8\nK:G\n%%MIDI gchord fzczcz\n"G"g2d4B2 "D7"B2A2|"G"G12|\n',
]


@needs_abc2midi
@pytest.mark.parametrize("abc", ORACLE_TUNES, ids=[t.split("\n")[1] for t in ORACLE_TUNES])
def test_accompaniment_agrees_with_abc2midi(abc, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from convert_agreement import compare

    outcome, f1, _, message = compare(abc, tmp_path, chords=True)
    assert outcome == "agree", f"F1 {f1}: {message}"
