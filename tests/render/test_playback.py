"""Playback sends the MIDI file's messages in order, on time, and silences on Ctrl-C."""

import mido
import pytest

from musicgen.errors import MusicgenError
from musicgen.render.midi import abc_to_midi
from musicgen.render.playback import play, send_midi


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class RecordingPort:
    def __init__(self, clock, interrupt_after=None):
        self.clock, self.sent, self.interrupt_after = clock, [], interrupt_after

    def send(self, message):
        self.sent.append((self.clock(), message))
        if self.interrupt_after is not None and len(self.sent) == self.interrupt_after:
            raise KeyboardInterrupt


@pytest.fixture()
def midi(tmp_path):
    path = abc_to_midi("X:1\nT:t\nM:4/4\nL:1/4\nQ:1/4=120\nK:C\nC D E2|\n", tmp_path / "t.mid")
    return mido.MidiFile(path)


def test_messages_are_sent_in_order_at_their_times(midi):
    clock = FakeClock()
    port = RecordingPort(clock)
    seconds = send_midi(midi, port, clock=clock, sleep=clock.sleep)
    notes = [(round(t, 6), m.type, m.note) for t, m in port.sent if m.type in ("note_on", "note_off")]
    assert notes == [
        (0, "note_on", 60),
        (0.5, "note_off", 60),
        (0.5, "note_on", 62),
        (1.0, "note_off", 62),
        (1.0, "note_on", 64),
        (2.0, "note_off", 64),
    ]
    assert port.sent[0][1].type == "program_change"
    assert seconds == pytest.approx(midi.length)


def test_ctrl_c_silences_every_channel(midi):
    clock = FakeClock()
    port = RecordingPort(clock, interrupt_after=2)
    with pytest.raises(KeyboardInterrupt):
        send_midi(midi, port, clock=clock, sleep=clock.sleep)
    controls = [(m.channel, m.control) for _, m in port.sent if m.type == "control_change"]
    assert {(c, 123) for c in range(16)} <= set(controls)


def test_missing_file_and_unknown_port(tmp_path, midi):
    with pytest.raises(MusicgenError, match="no such file"):
        play(tmp_path / "none.mid")
    path = tmp_path / "t.mid"
    midi.save(path)
    with pytest.raises(MusicgenError):
        play(path, port="No Such Port")


def test_no_midi_system_is_one_clear_error(tmp_path, midi, monkeypatch):
    import musicgen.render.playback as playback
    from musicgen.render.playback import list_ports

    monkeypatch.setattr(playback, "ALSA_SEQUENCER", tmp_path / "no-seq")
    monkeypatch.setattr(playback.sys, "platform", "linux")
    with pytest.raises(MusicgenError, match="no MIDI system .* --audio"):
        list_ports()
    monkeypatch.setattr(playback, "ALSA_SEQUENCER", tmp_path)  # there, but rtmidi cannot open it

    def rtmidi_fails():
        raise OSError("MidiOutAlsa::initialize: error creating ALSA sequencer client object.")

    monkeypatch.setattr(mido, "get_output_names", rtmidi_fails)
    with pytest.raises(MusicgenError, match="cannot reach this computer's MIDI system"):
        list_ports()
    path = tmp_path / "t.mid"
    midi.save(path)
    with pytest.raises(MusicgenError, match="MIDI system"):
        play(path, port="Some Port")


def test_a_missing_portaudio_library_is_named(tmp_path, midi, monkeypatch):
    import importlib.abc
    import sys

    import musicgen.render.playback as playback

    class NoPortAudio(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    monkeypatch.setattr(playback, "_PLAYERS", ())
    path = tmp_path / "t.mid"
    midi.save(path)
    with pytest.raises(MusicgenError, match="PortAudio library") as error:
        play(path, use_port=False)
    assert "pip install sounddevice" not in str(error.value)
