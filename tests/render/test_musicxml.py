"""MusicXML: real ABC in, a score a notation program reads back with the same notes, bars and signatures."""

from __future__ import annotations

import base64
import io
from fractions import Fraction

import mido
import pytest
from click.testing import CliRunner

from musicgen.abc.melody import abc_to_melody
from musicgen.abc.tunebook import parse_tunebook
from musicgen.cli.main import main
from musicgen.errors import ConversionError
from tests.helpers import abc2midi_notes, needs_abc2midi

music21 = pytest.importorskip("music21", reason="MusicXML needs music21 (the corpus extra)")

from musicgen.render.musicxml import abc_to_musicxml  # noqa: E402

# O'Neill's 1850 no. 125 as music21 ships it: a pickup, flats, a natural and a
# flat in one bar, rests, and a last bar short by the pickup.
BLIND_BOY = """X:1
T:The Poor Blind Boy
M:4/4
L:1/8
Q:1/4=96
K:Bb
d|d3 B e3 d|(c=Bc>d) _B2 z A|(GBeg) f3 d|d4 c2 z2|
d2 d>c B3 A|G3 F (=EGcB)|(Af=ed cBAG)|(G4 F2) z||
F|(F3 G ABcd)|(ec)(fe) (dcBA)|(GBeg) f3 d|(d4 c2) z c|
d3 d e3 e|f3 f g3 f|fedc B3 A|c4 B2 z||
"""

# Repeats, endings, triplets, a chord and a note tied over the bar line.
JIG = """X:2
T:Test Jig
M:6/8
L:1/8
K:Dmix
|:A|d2e (3fed c|[Ad]2A- AFA|1 G2B AFD:|2 G2B AGF||
"""


def _score(abc: str):
    return music21.converter.parse(abc_to_musicxml(abc), format="musicxml")


def _notes(score) -> list[tuple[Fraction, Fraction, int]]:
    """(onset, length in quarter notes, MIDI pitch) of every sounding note, ties joined."""
    return sorted(
        (Fraction(n.offset).limit_denominator(960), Fraction(n.quarterLength).limit_denominator(960), p.midi)
        for n in score.flatten().stripTies().notes
        if not isinstance(n, music21.harmony.ChordSymbol)  # chord symbols are not notes a player plays
        for p in n.pitches
    )


@pytest.mark.parametrize("abc", [BLIND_BOY, JIG])
def test_the_notes_read_back_are_the_melodys(abc):
    melody = abc_to_melody(abc)
    assert _notes(_score(abc)) == sorted((n.start * 4, n.length * 4, n.pitch) for n in melody.notes)


def test_a_real_tunebook_reads_back_note_for_note(small_corpus):
    tunes, _ = parse_tunebook(
        (small_corpus / next(iter(sorted(p.name for p in small_corpus.glob("*.abc"))))).read_text()
    )
    for tune in tunes[:8]:
        melody = abc_to_melody(tune.text)
        assert _notes(_score(tune.text)) == sorted((n.start * 4, n.length * 4, n.pitch) for n in melody.notes)


def test_pickup_signatures_tempo_and_title():
    score = _score(BLIND_BOY)
    measures = list(score.parts[0].getElementsByClass("Measure"))
    assert measures[0].number == 0 and measures[0].duration.quarterLength == 0.5  # the pickup d
    assert measures[-1].highestTime == 3.5  # c4 B2 z: the bar the pickup completes
    assert len(measures) == 17
    assert score.metadata.bestTitle == "The Poor Blind Boy"
    flat = score.flatten()
    assert flat.getElementsByClass("KeySignature")[0].sharps == -2
    assert flat.getElementsByClass("TimeSignature")[0].ratioString == "4/4"
    assert flat.getElementsByClass("MetronomeMark")[0].number == 96
    rests = [r.quarterLength for r in measures[4].notesAndRests if r.isRest]
    assert rests == [1.0]  # d4 c2 z2


def test_accidentals_are_spelled_for_the_key_and_shown_only_where_needed():
    second_bar = list(_score(BLIND_BOY).parts[0].getElementsByClass("Measure"))[2]
    shown = [(n.pitch.name, n.pitch.accidental.displayStatus) for n in second_bar.notes if n.pitch.accidental]
    # B natural is marked; the B-flat after it in the same bar needs its flat shown again.
    assert ("B", True) in shown and ("B-", True) in shown
    names = {n.pitch.name for n in _score(BLIND_BOY).flatten().notes}
    assert "A#" not in names and "B-" in names and "E-" in names


def test_a_mixolydian_key_has_its_signature_and_a_held_note_is_tied():
    score = _score(JIG)
    assert score.flatten().getElementsByClass("KeySignature")[0].sharps == 1
    assert any(n.tie is not None for n in score.flatten().notes)
    assert any(n.isChord for n in score.flatten().notes)


@needs_abc2midi
@pytest.mark.parametrize("abc", [BLIND_BOY, JIG])
def test_verovio_plays_what_abc2midi_plays(abc, tmp_path):
    """Two tools we did not write: verovio reads our MusicXML, abc2midi reads the ABC."""
    verovio = pytest.importorskip("verovio", reason="the sheet extra reads MusicXML here")
    toolkit = verovio.toolkit()
    assert toolkit.loadData(abc_to_musicxml(abc).decode("utf-8"))
    played = mido.MidiFile(file=io.BytesIO(base64.b64decode(toolkit.renderToMIDI())))
    ours = _onsets(played)
    theirs = abc2midi_notes(abc, tmp_path, chords=False)
    per_quarter = mido.MidiFile(tmp_path / "notes.mid").ticks_per_beat
    # abc2midi starts a tick late and spreads a chord's notes 10 ticks apart: onsets are
    # compared from the first note, to the nearest twelfth of a quarter (triplets stay exact).
    assert _grid(ours) == _grid([(Fraction(tick - theirs[0][0], per_quarter), pitch) for tick, pitch in theirs])


def _grid(onsets):
    return sorted((round(onset * 12), pitch) for onset, pitch in onsets)


def _onsets(midi) -> list[tuple[Fraction, int]]:
    ticks, notes = 0, []
    for message in mido.merge_tracks(midi.tracks):
        ticks += message.time
        if message.type == "note_on" and message.velocity > 0:
            notes.append((Fraction(ticks, midi.ticks_per_beat), message.note))
    return sorted(notes)


def test_a_tune_without_notes_is_a_one_line_error():
    with pytest.raises(ConversionError, match="no notes") as error:
        abc_to_musicxml("X:1\nT:Empty\nM:4/4\nK:G\nz4|\n")
    assert "\n" not in str(error.value)


# Nine notes of 1/36 quarter each: a tuplet MusicXML's note types cannot spell.
NINE = "X:3\nT:Nine\nM:3/4\nL:1/8\nK:G\n(9G/4A/4B/4c/4d/4e/4f/4g/4a/4 b2 a2|\n"


def test_convert_writes_musicxml_and_reports_the_tune_that_fails(tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(JIG + "\n" + NINE)
    result = CliRunner().invoke(main, ["convert", str(book), "--to", "musicxml", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "not converted: 02-nine: cannot write MusicXML" in result.output
    written = sorted(p.name for p in (tmp_path / "out").glob("*.musicxml"))
    assert written == ["01-test-jig.musicxml"]
    assert music21.converter.parse(tmp_path / "out" / written[0]).metadata.bestTitle == "Test Jig"


def test_generate_writes_a_musicxml_file_per_converted_tune(run, tiny_run, tmp_path):
    out = tmp_path / "g"
    result = run("generate", "--model", tiny_run, "-n", 2, "--seed", 1, "--formats", "abc,musicxml", "--out", out)
    assert result.exit_code == 0, result.output
    scores = sorted(out.glob("*.musicxml"))
    assert len(scores) + result.output.count("not converted") == 2
    for path in scores:
        abc = path.with_suffix(".abc").read_text()
        assert _notes(music21.converter.parse(path)) == _notes(_score(abc))


def test_a_free_meter_shows_no_time_signature_and_no_q_shows_no_tempo():
    document = abc_to_musicxml("X:1\nT:Free\nM:none\nL:1/8\nK:D\nABc def gfe dcB A4|]\n").decode("utf-8")
    assert '<time print-object="no">' in document
    assert "<metronome" not in document and "<metronome" in abc_to_musicxml(BLIND_BOY).decode("utf-8")


def test_chord_symbols_are_written_as_harmony_where_they_sound():
    import music21

    abc = 'X:2\nT:Lead\nM:4/4\nL:1/8\nK:G\nD2|"G"GABc dBGB|"C"c2e2 "D7/f#"d2c2|"Bb"B2G2 "(Am)"A2"^fine"F2|"G"G6|]\n'
    score = music21.converter.parse(abc_to_musicxml(abc))
    symbols = list(score.recurse().getElementsByClass("ChordSymbol"))
    assert [(s.figure, float(s.getOffsetInHierarchy(score))) for s in symbols] == [
        ("G", 1.0),
        ("C", 5.0),
        ("D7/F#", 7.0),
        ("B-", 9.0),
        ("Am", 11.0),
        ("G", 13.0),
    ]  # quarter notes from the start; the pickup is one
    assert [p.name for p in symbols[2].pitches][0] == "F#"


def test_a_lead_sheet_and_a_duet_read_back_note_for_note():
    lead = 'X:3\nT:Lead\nM:3/4\nL:1/4\nK:D\n|:"D"DFA|"G"B2"A7/c#"c|"D"d3:|\n'
    assert _notes(_score(lead)) == sorted((n.start * 4, n.length * 4, n.pitch) for n in abc_to_melody(lead).notes)
    duet = "X:4\nT:Duet\nM:3/4\nL:1/4\nV:1\nV:2 clef=bass\nK:G\nV:1\nGAB|d3|]\nV:2\nG,B,D|G,,3|]\n"
    score = _score(duet)
    melody = abc_to_melody(duet)
    assert len(score.parts) == 2
    assert [p.midi for n in score.parts[1].flatten().notes for p in n.pitches] == [
        n.pitch for n in melody.voices[0].notes
    ]
    assert score.parts[1].flatten().getElementsByClass("Clef")[0].sign == "F"
