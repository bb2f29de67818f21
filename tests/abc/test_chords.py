"""Chord symbols and gchord patterns: what each symbol sounds as, checked by hand against abc2midi 4.84."""

from __future__ import annotations

import pytest

from musicgen.abc.chords import default_gchord, parse_chord_symbol, parse_gchord


@pytest.mark.parametrize(
    "symbol, bass, chord",
    [
        ("G", 43, (55, 59, 62)),
        ("Em", 40, (52, 55, 59)),
        ("D7", 38, (50, 54, 57, 60)),
        ("Bb", 46, (58, 62, 65)),
        ("C#m", 37, (49, 52, 56)),
        ("F#7", 42, (54, 58, 61, 64)),
        ("Gmaj7", 43, (55, 59, 62, 66)),
        ("Gdim", 43, (55, 58, 61)),
        ("G+", 43, (55, 59, 63)),
        ("Gsus4", 43, (55, 60, 62)),  # abc2midi 4.84 plays a major triad here
        ("(A7)", 45, (57, 61, 64, 67)),  # an optional chord is played
        # a "/" note in the chord becomes its lowest note; one outside it only moves the bass
        ("G/b", 47, (67, 59, 62)),
        ("G/d", 38, (67, 71, 62)),
        ("Am7/g", 43, (69, 72, 76, 67)),
        ("Gm/bb", 46, (67, 58, 62)),
        ("G/f#", 42, (55, 59, 62)),
        ("D/c#", 37, (50, 54, 57)),
    ],
)
def test_chord_symbols_sound_as_abc2midi_plays_them(symbol, bass, chord):
    parsed = parse_chord_symbol(symbol)
    assert parsed is not None
    assert parsed.bass_pitch() == bass
    assert parsed.chord_pitches() == chord


@pytest.mark.parametrize("text", ["^D.C.", "_fine", "<left", ">right", "@1,2 text", "Gd", "H", "G7b9", "", "Em/x"])
def test_annotations_and_unknown_names_are_not_chords(text):
    assert parse_chord_symbol(text) is None


def test_lower_case_symbol_is_bass_only():
    chord = parse_chord_symbol("am")
    assert chord is not None and chord.bass_only and chord.bass_pitch() == 45


@pytest.mark.parametrize(
    "meter, pattern",
    [
        ("4/4", "fzczfzcz"),
        ("C", "fzczfzcz"),
        ("C|", "fzczfzcz"),
        ("2/4", "fzcz"),
        ("3/4", "fzczcz"),
        ("6/8", "fzcfzc"),
        ("9/8", "fzcfzcfzc"),
        ("12/8", "fzcfzcfzcfzc"),
        ("6/4", "fzczfzczfzcz"),
        ("5/4", "fzbcz"),
        ("7/8", "fzbczcz"),
        ("none", None),
        ("", None),
    ],
)
def test_default_patterns_by_meter(meter, pattern):
    assert default_gchord(meter) == pattern


def test_gchord_pattern_lengths_and_errors():
    steps = parse_gchord("f2c2")
    assert [(s.code, s.length) for s in steps] == [("f", 2), ("c", 2)]
    with pytest.raises(ValueError, match="'x' is not one of"):
        parse_gchord("fxc")
    with pytest.raises(ValueError, match="1 to 64 steps"):
        parse_gchord("f" * 65)
    with pytest.raises(ValueError, match="1 to 64 steps"):
        parse_gchord("")
