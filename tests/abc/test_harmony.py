"""Harmonising melodies: the chords offered, where they go, and that players read the result."""

from __future__ import annotations

import pytest

from helpers import abc2midi_errors, needs_abc2midi
from musicgen.abc.chords import parse_chord_symbol
from musicgen.abc.harmony import harmonize, key_chords
from musicgen.abc.melody import abc_to_melody
from musicgen.errors import ConversionError

KESH = (
    "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA|\nGAG GAB|ABA ABd|edd gdB|AGF G3:|\n"
)
REEL = "X:2\nT:Reel\nM:4/4\nL:1/8\nK:Ador\nB|A2EA cAEA|G2DG BGDG|A2EA cAEA|Bcde a2ge|]\n"


def test_chords_offered_follow_the_key_and_mode():
    chords, tonic = key_chords("G")
    assert tonic.symbol == "G"
    assert {c.symbol for c in chords} >= {"G", "Am", "Bm", "C", "D", "Em", "D7", "A7"}
    minor, tonic = key_chords("Am")
    assert tonic.symbol == "Am"
    symbols = {c.symbol for c in minor}
    assert {"Am", "C", "Dm", "E", "E7", "F", "G"} <= symbols and "Em" not in symbols  # the dominant is major
    assert {c.symbol for c in key_chords("Dmix")[0]} >= {"D", "C", "G", "Em", "Am"}
    with pytest.raises(ConversionError, match="tonic"):
        key_chords("none")


def test_a_jig_is_harmonised_from_tonic_to_tonic_with_its_melody_untouched():
    harmonised = harmonize(KESH)
    melody = abc_to_melody(harmonised)
    symbols = [text for _, text in melody.chords]
    assert symbols and all(parse_chord_symbol(text) is not None for text in symbols)
    assert symbols[0] == "G" and symbols[-1] == "G"
    assert set(symbols) <= {c.symbol for c in key_chords("G")[0]}
    assert melody.notes == abc_to_melody(KESH).notes
    # one chord at most per half bar: a change needs a new dotted quarter
    starts = [start for start, _ in melody.chords]
    assert all(start % (3 * melody.notes[0].length) == 0 for start in starts)


def test_pickup_gets_no_chord_and_minor_mode_ends_on_its_tonic():
    melody = abc_to_melody(harmonize(REEL))
    assert melody.chords[0][0] == melody.notes[1].start  # the first full bar, not the pickup
    assert melody.chords[-1][1] == "Am"


def test_tunes_with_chords_are_kept_unless_replaced():
    written = 'X:3\nT:t\nM:3/4\nL:1/4\nK:D\n"D"DFA|"A7"GEC|"D"D3|]\n'
    assert harmonize(written) == harmonize(harmonize(written))
    assert '"A7"GEC' in harmonize(written)
    replaced = abc_to_melody(harmonize(written, replace=True))
    assert len(replaced.chords) >= 2 and replaced.chords[0][1] == "D"


def test_unreadable_key_is_an_error():
    with pytest.raises(ConversionError, match="tonic"):
        harmonize("X:4\nT:t\nK:none\nCDEF|GABc|\n")


@needs_abc2midi
@pytest.mark.parametrize("abc", [KESH, REEL])
def test_abc2midi_reads_the_harmonised_tune_without_errors(abc, tmp_path):
    assert abc2midi_errors(harmonize(abc), tmp_path) == 0
