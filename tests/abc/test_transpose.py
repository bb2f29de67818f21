"""Moving tunes to another tonic: spelled right, sounding right, and back again."""

import math
import random

import pytest

from helpers import abc2midi_notes, needs_abc2midi
from musicgen.abc.corpus import load_corpus
from musicgen.abc.melody import abc_to_melody
from musicgen.abc.transpose import (
    Interval,
    TonicTable,
    interval_between,
    mode_of,
    move_tunes,
    tonic_of,
    transpose_body,
    transpose_key,
    transpose_tune,
)
from musicgen.abc.tunebook import parse_tune
from musicgen.errors import ConversionError


def test_notes_follow_the_key_and_explicit_accidentals_are_respelled():
    tune = parse_tune("X:1\nT:t\nM:3/4\nL:1/8\nK:G\n|:GAB c2 d|e^fg =f2 e:|\n")
    moved = transpose_tune(tune, "C")
    assert moved.key == "C"
    # F# was written out in G (sounds F#), so it becomes an explicit B natural;
    # the F natural becomes B flat; g climbs into the next octave.
    assert moved.body == "|:cde f2 g|a=bc' _b2 a:|"


@pytest.mark.parametrize(
    "key, tonic, expected",
    [
        ("Ador", "C", "Cdor"),
        ("E Minor", "C", "C Minor"),
        ("F#m", "C", "Cm"),
        ("Bb", "C", "C"),
        ("Cmix", "D", "Dmix"),
        ("C", "F#", "F#"),
        ("C", "Eb", "Eb"),
        ("G clef=bass", "C", "C clef=bass"),
    ],
)
def test_keys_keep_mode_and_clef(key, tonic, expected):
    assert transpose_key(key, interval_between(tonic_of(key), tonic)) == expected


@pytest.mark.parametrize("key", ["none", "HP", "Hp", "D ^g", "Dmix=c", "H", ""])
def test_keys_without_a_plain_tonic_are_refused(key):
    assert tonic_of(key) is None
    with pytest.raises(ConversionError, match="cannot be transposed"):
        transpose_key(key, Interval(1, 2))


def test_moves_take_the_nearest_way():
    assert interval_between("G", "C") == Interval(3, 5)  # up a fourth
    assert interval_between("A", "C") == Interval(2, 3)  # up a minor third
    assert interval_between("F", "C") == Interval(-3, -5)  # down a fourth
    assert interval_between("F#", "C") == Interval(-3, -6)
    assert interval_between("C", "G") == Interval(-3, -5)


def test_chords_key_changes_and_octaves_move_and_text_stays():
    body = '"D7"A,2 "D/F#"d\'2 !trill!B "^Segno"c|[K:A] B2 e2|\nP:B\nK:Em\nE4 ~e2 +fermata+c|]'
    moved = transpose_body(body, interval_between("D", "C"))
    assert moved == ('"C7"G,2 "C/E"c\'2 !trill!A "^Segno"B|[K:G] A2 d2|\nP:B\nK:Dm\nD4 ~d2 +fermata+B|]')


def test_a_lone_exclamation_mark_is_a_line_break_and_the_notes_after_it_move():
    assert transpose_body("A2 B2|!c2 d2|", interval_between("A", "C")) == "c2 d2|!e2 f2|"


def test_a_move_that_needs_a_triple_accidental_is_refused():
    with pytest.raises(ConversionError, match="triple"):
        transpose_body("^^F", Interval(0, 1))


@pytest.fixture(scope="module")
def corpus_sample():
    tunes = load_corpus().tunes
    return random.Random(0).sample(tunes, 400)


def test_corpus_tunes_sound_the_interval_higher_and_move_back_to_the_same_text(corpus_sample):
    compared = 0
    for original in corpus_sample:
        tonic = tonic_of(original.key)
        if tonic is None:
            continue
        moved = transpose_tune(original, "C")
        assert transpose_tune(moved, tonic).text == original.text
        try:
            before = abc_to_melody(original.abc).notes
        except ConversionError:
            continue  # a tune musicgen cannot play as written (K:Es)
        after = abc_to_melody(moved.abc).notes
        assert [(n.start, n.length) for n in before] == [(n.start, n.length) for n in after]
        assert {b.pitch - a.pitch for a, b in zip(before, after)} == {interval_between(tonic, "C").semitones}
        compared += 1
    assert compared >= 390
    assert len(move_tunes(corpus_sample, "C")) >= 398


@needs_abc2midi
def test_abc2midi_hears_every_note_moved_by_the_interval(corpus_sample, tmp_path):
    for original in corpus_sample[:60]:
        tonic = tonic_of(original.key)
        if tonic is None:
            continue
        moved = transpose_tune(original, "C")
        before = abc2midi_notes(original.abc, tmp_path, chords=False)
        after = abc2midi_notes(moved.abc, tmp_path, chords=False)
        shift = interval_between(tonic, "C").semitones
        assert [(tick, pitch + shift) for tick, pitch in before] == after, original.title


def test_modes_are_named_alike():
    assert [mode_of(k) for k in ("G", "Em", "E Minor", "AMix", "Adorian", "Cm clef=bass", "Fion")] == [
        "maj",
        "min",
        "min",
        "mix",
        "dor",
        "min",
        "maj",
    ]


def test_tonic_table_draws_tonics_as_often_as_training_had_them():
    tunes = [parse_tune(f"X:1\nK:{key}\nC|\n") for key in ("G", "G", "G", "D", "Ador", "Em")]
    table = TonicTable.from_tunes(tunes, "C")
    assert table.counts == {"maj": {"G": 3, "D": 1}, "dor": {"A": 1}, "min": {"E": 1}}
    assert [table.choose("C", draw) for draw in (0.0, 0.24, 0.26, 0.74, 0.76, 0.99)] == ["D", "D", "G", "G", "G", "G"]
    assert table.choose("Cdor", 0.5) == "A"
    assert table.choose("Cphr", 0.0) == "A"  # a mode training never saw draws from every tune
    assert TonicTable.from_dict(table.to_dict()) == table


def test_tonic_bits_are_a_distribution_over_the_spelled_tonics_of_each_mode():
    table = TonicTable("C", {"maj": {"G": 3, "D": 1}})
    assert table.tonic_bits("G") == pytest.approx(-math.log2(4 / 25))
    assert table.tonic_bits("Bb") == pytest.approx(-math.log2(1 / 25))
    assert table.tonic_bits("Am") == pytest.approx(-math.log2(1 / 21))  # a mode training never had
    spellings = [letter + accidental for letter in "ABCDEFG" for accidental in ("", "#", "b")]
    for mode in ("", "m", "dor"):
        assert sum(2 ** -table.tonic_bits(tonic + mode) for tonic in spellings) == pytest.approx(1.0)
    with pytest.raises(ConversionError, match="without a plain tonic"):
        table.tonic_bits("none")
