"""ABC -> MIDI -> WAV, read back with independent tools (pretty_midi, abc2midi, wave)."""

import wave

import numpy as np
import pretty_midi
import pytest

from helpers import abc2midi_notes, needs_abc2midi
from musicgen.errors import ConversionError
from musicgen.render.audio import midi_to_wav, normalise
from musicgen.render.midi import abc_to_midi, instrument_program

KESH = (
    "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nQ:3/8=100\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA|\n"
    "GAG GAB|ABA ABd|edd gdB|AGF G3:|\n"
)


def test_midi_reads_back_with_pretty_midi(tmp_path):
    path = abc_to_midi(KESH, tmp_path / "kesh.mid", instrument="fiddle")
    midi = pretty_midi.PrettyMIDI(str(path))
    assert midi.instruments[0].program == 40
    notes = midi.instruments[0].notes
    assert len(notes) == 2 * 46  # the part is played twice
    assert [n.pitch for n in notes[:3]] == [67, 69, 67]
    assert midi.get_tempo_changes()[1][0] == pytest.approx(150)  # 3/8=100 is 150 quarters a minute
    assert notes[-1].end == pytest.approx(16 * 6 * 0.2, abs=0.01)  # 16 bars of 6 quavers at 0.2 s


@needs_abc2midi
def test_midi_onsets_and_pitches_match_abc2midi(tmp_path):
    import mido

    abc_to_midi(KESH, tmp_path / "ours.mid")
    ours = mido.MidiFile(tmp_path / "ours.mid")
    ticks, onsets = 0, []
    for message in mido.merge_tracks(ours.tracks):
        ticks += message.time
        if message.type == "note_on" and message.velocity:
            onsets.append((round(ticks * 480 / ours.ticks_per_beat), message.note))
    theirs = abc2midi_notes(KESH, tmp_path)
    assert [p for _, p in onsets] == [p for _, p in theirs]
    assert all(abs(a - b) <= 2 for (a, _), (b, _) in zip(onsets, theirs))  # abc2midi starts 1 tick late


def test_bpm_overrides_q(tmp_path):
    path = abc_to_midi(KESH, tmp_path / "k.mid", tempo_qpm=60)
    assert pretty_midi.PrettyMIDI(str(path)).get_tempo_changes()[1][0] == pytest.approx(60)


def test_bad_tune_writes_nothing(tmp_path):
    with pytest.raises(ConversionError, match="X:1"):
        abc_to_midi("X:1\nT:t\nL:0\nK:C\nCDE|\n", tmp_path / "bad.mid")
    assert list(tmp_path.iterdir()) == []


def test_instruments_by_name_and_number():
    assert instrument_program("Fiddle") == 40 and instrument_program("73") == 73
    with pytest.raises(ConversionError, match="0..127"):
        instrument_program(128)
    with pytest.raises(ConversionError, match="unknown instrument 'kazoo'"):
        instrument_program("kazoo")


def read_wav(path):
    with wave.open(str(path)) as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, channels)
    return samples.astype(float) / 32768, rate


@pytest.mark.parametrize("renderer", ["soundfont", "additive"])
def test_wav_matches_midi_length_is_loud_and_not_clipped(tmp_path, renderer):
    midi = abc_to_midi(KESH, tmp_path / "kesh.mid")
    assert midi_to_wav(midi, tmp_path / "kesh.wav", renderer=renderer) == renderer
    samples, rate = read_wav(tmp_path / "kesh.wav")
    assert rate == 48000  # the SoundFont synthesizer's own rate, kept for both renderers
    duration = len(samples) / rate
    assert abs(duration - pretty_midi.PrettyMIDI(str(midi)).get_end_time()) <= 0.25
    peak = np.abs(samples).max()
    assert 0.85 < peak <= 0.9  # normalised to -1 dBFS
    assert np.sqrt(np.mean(samples**2)) > 0.02  # not silent


@pytest.mark.parametrize("renderer", ["soundfont", "additive"])
def test_one_note_sounds_at_its_frequency(tmp_path, renderer):
    midi = abc_to_midi("X:1\nT:A\nM:4/4\nL:1/4\nK:C\nA4|\n", tmp_path / "a.mid", instrument="flute")
    midi_to_wav(midi, tmp_path / "a.wav", renderer=renderer)
    samples, rate = read_wav(tmp_path / "a.wav")
    mono = samples.mean(axis=1)[int(0.2 * rate) : int(1.2 * rate)]
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    peak = np.fft.rfftfreq(len(mono), 1 / rate)[spectrum.argmax()]
    assert peak == pytest.approx(440, rel=0.02)


def test_missing_and_corrupt_midi(tmp_path):
    with pytest.raises(ConversionError, match="no such MIDI file"):
        midi_to_wav(tmp_path / "none.mid", tmp_path / "x.wav")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd garbage")
    with pytest.raises(ConversionError, match="not a readable MIDI file"):
        midi_to_wav(bad, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


def test_normalise_keeps_silence_silent():
    assert not normalise(np.zeros((10, 1))).any()
    assert normalise(np.zeros((10, 1))).dtype == np.int16


@pytest.mark.parametrize("samples", [np.array([[0.1], [-0.5]]), np.array([[3200], [-16000]], dtype=np.int16)])
def test_normalise_puts_the_loudest_sample_at_minus_one_dbfs(samples):
    pcm = normalise(samples)
    assert pcm.dtype == np.int16
    assert np.abs(pcm.astype(int)).max() == round(32767 * 10 ** (-1 / 20))
    assert pcm[0, 0] * 5 == pytest.approx(-pcm[1, 0], abs=5)  # the shape kept: 0.1 against -0.5


def test_normalise_takes_full_scale_negative_without_overflow():
    pcm = normalise(np.array([[-32768], [100]], dtype=np.int16))
    assert pcm[0, 0] == -round(32767 * 10 ** (-1 / 20)) and pcm[1, 0] > 0


@pytest.mark.parametrize(
    "meter, key, signature, key_name",
    [
        ("6/8", "Dmix", (6, 8), "G"),
        ("C|", "Ador", (2, 2), "Em"),
        ("3/4", "Bb", (3, 4), "Bb"),
        ("none", "none", None, None),
    ],
)
def test_midi_carries_the_tunes_time_and_key_signature(tmp_path, meter, key, signature, key_name):
    import mido

    from musicgen.render.midi import abc_to_midi

    path = abc_to_midi(f"X:1\nT:Sig\nM:{meter}\nL:1/8\nK:{key}\nABc def|\n", tmp_path / "t.mid")
    meta = {m.type: m for m in mido.MidiFile(path).tracks[0] if m.is_meta}
    assert meta["track_name"].name == "Sig" and "set_tempo" in meta
    if signature is None:
        assert "time_signature" not in meta and "key_signature" not in meta
    else:
        assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == signature
        assert meta["key_signature"].key == key_name


LEAD_SHEET = (
    "X:2\nT:Lead Sheet\nM:4/4\nL:1/8\nK:G\n%%MIDI chordprog 24\n"
    '|:"G"GABc dBGB|"C"c2e2 "D7"d2c2|"G"B2G2 "D/f#"A2F2|"G"G8:|\n'
)


def test_chord_symbols_play_as_bass_and_chord_tracks(tmp_path):
    midi = pretty_midi.PrettyMIDI(str(abc_to_midi(LEAD_SHEET, tmp_path / "lead.mid")))
    melody, bass, chords = midi.instruments
    assert [i.name for i in midi.instruments] == ["Lead Sheet", "Bass", "Chords"]
    assert (melody.program, bass.program, chords.program) == (0, 32, 24)  # %%MIDI chordprog wins over the default
    assert len(melody.notes) == 2 * 17
    # bar 1 of "G": G2 on beats 1 and 3, G B D on beats 2 and 4, each an eighth long (0.25 s at 120)
    first = [n for n in bass.notes if n.start < 2]
    assert [(round(n.start, 3), n.pitch, round(n.end - n.start, 3)) for n in first] == [(0, 43, 0.25), (1, 43, 0.25)]
    assert sorted(n.pitch for n in chords.notes if n.start < 1) == [55, 59, 62]
    assert {n.pitch for n in bass.notes if 5 <= n.start < 5.5} == {42}  # "D/f#" on beat 3 of bar 3: F sharp in the bass
    assert max(n.end for n in bass.notes + chords.notes) <= melody.notes[-1].end + 1e-6


def test_no_accompaniment_is_the_melody_alone(tmp_path):
    import mido

    path = abc_to_midi(LEAD_SHEET, tmp_path / "plain.mid", accompaniment=False)
    midi = mido.MidiFile(path)
    assert midi.type == 0 and len(midi.tracks) == 1
    assert {m.channel for m in midi.tracks[0] if m.type == "note_on"} == {0}


def test_accompaniment_instruments_are_checked(tmp_path):
    with pytest.raises(ConversionError, match="unknown instrument 'kazoo'"):
        abc_to_midi(LEAD_SHEET, tmp_path / "x.mid", bass_instrument="kazoo")
    assert list(tmp_path.iterdir()) == []


@needs_abc2midi
def test_accompanied_midi_agrees_with_abc2midi_and_sounds(tmp_path):
    ours = abc_to_midi(LEAD_SHEET, tmp_path / "lead.mid")
    notes = pretty_midi.PrettyMIDI(str(ours))
    onsets = sorted((round(n.start * 960), n.pitch) for i in notes.instruments for n in i.notes)
    theirs = abc2midi_notes(LEAD_SHEET, tmp_path)
    assert [p for _, p in onsets] == [p for _, p in sorted(theirs, key=lambda t: (round(t[0] / 2), t[1]))]
    midi_to_wav(ours, tmp_path / "lead.wav", renderer="additive")
    with wave.open(str(tmp_path / "lead.wav")) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(notes.get_end_time(), abs=0.6)


def test_each_voice_is_its_own_track(tmp_path):
    import mido

    abc = "X:1\nT:Duet\nM:3/4\nL:1/4\nK:G\nV:1\nGAB|d3|]\nV:2\nG,B,D|G,3|]\n"
    midi = mido.MidiFile(abc_to_midi(abc, tmp_path / "duet.mid", instrument="flute"))
    assert midi.type == 1 and [t.name for t in midi.tracks] == ["Duet", "Voice 2"]
    second = [m for m in midi.tracks[1] if m.type in ("note_on", "program_change")]
    assert second[0].program == 73 and {m.channel for m in second} == {3}
    assert [m.note for m in second if m.type == "note_on" and m.velocity] == [55, 59, 62, 55]
