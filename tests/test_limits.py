"""Bounds on hostile input: sound length, tempi, file kinds and sizes, option values."""

import io
import os
import signal
import subprocess
import sys
import textwrap

import mido
import pytest

from musicgen.errors import ConversionError, MusicgenError, OptionError
from musicgen.limits import MAX_SOUND_SECONDS, check_regular_file, check_tempo, read_bounded
from musicgen.render.convert import render_tune
from musicgen.render.midi import Sound


def test_a_34_character_tune_of_26_minutes_is_refused_before_any_audio():
    result = render_tune("X:1\nL:1\nQ:1/4=4\nK:C\nC z8 z8 z8 C|", ("abc", "mid", "wav"))
    assert "plays for 1,560 s" in result.error and f"at most {MAX_SOUND_SECONDS:g} s" in result.error
    assert list(result.files) == ["abc"]


def test_a_1_3_kb_tune_of_333_hours_is_refused():
    abc = "X:1\nL:1\nQ:1/4=4\nK:C\n" + "z64|" * 312 + "C|"
    assert len(abc) < 1400
    result = render_tune(abc, ("mid", "wav"))
    assert "plays for" in result.error and not result.files


def test_a_tempo_option_stretching_a_tune_past_the_bound_is_refused():
    abc = "X:1\nL:1/4\nK:C\n" + "C D E F|" * 40
    assert not render_tune(abc, ("mid",), Sound(tempo_qpm=120)).error
    assert "plays for" in render_tune(abc, ("mid",), Sound(tempo_qpm=4)).error


def _long_midi(path, seconds: float):
    """A 2-note MIDI file whose second note starts ``seconds`` in."""
    track = mido.MidiTrack(
        [mido.Message("note_on", note=60, velocity=80, time=0), mido.Message("note_off", note=60, velocity=0, time=480)]
    )
    ticks = int(seconds * 2 * 480)  # 120 bpm: 2 beats a second
    track += [
        mido.Message("note_on", note=62, velocity=80, time=ticks),
        mido.Message("note_off", note=62, velocity=0, time=480),
    ]
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)
    return path


def test_a_tiny_midi_file_of_108_days_is_refused_before_rendering(tmp_path):
    from musicgen.render.audio import midi_to_wav

    source = _long_midi(tmp_path / "long.mid", 108 * 86400)
    assert source.stat().st_size < 100
    with pytest.raises(ConversionError, match="plays for .* at most 600 s"):
        midi_to_wav(source, tmp_path / "long.wav")
    assert not (tmp_path / "long.wav").exists()


def test_midi_files_that_are_fifos_or_huge_are_refused(tmp_path):
    from musicgen.render.audio import check_midi

    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    with pytest.raises(ConversionError, match="not a regular file"):
        check_midi(fifo)
    huge = tmp_path / "huge.mid"
    huge.write_bytes(b"MThd" + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(ConversionError, match="at most"):
        check_midi(huge)


def test_check_tempo_takes_finite_numbers_in_range_only():
    assert check_tempo(None) is None and check_tempo(120) == 120.0
    for bad in (0, -5, 3.9, 1001, float("nan"), float("inf"), 1e9, True, "120"):
        with pytest.raises(OptionError, match="4..1000"):
            check_tempo(bad)


def test_regular_file_checks(tmp_path):
    with pytest.raises(MusicgenError, match="no such"):
        check_regular_file(tmp_path / "missing", 10)
    with pytest.raises(MusicgenError, match="a folder"):
        check_regular_file(tmp_path, 10)
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(MusicgenError, match="at most 10"):
        read_bounded(tmp_path / "big", 10)
    assert read_bounded(tmp_path / "big", 11) == b"x" * 11


def test_midi_track_names_hold_any_title():
    from musicgen.render.midi import midi_text

    result = render_tune("X:1\nT:The \u201cCurly\u201d Reel \u2014 2\nK:C\nCDEF|", ("mid",))
    track = mido.MidiFile(file=io.BytesIO(result.files["mid"])).tracks[0]
    assert track[0].name == 'The "Curly" Reel - 2'
    assert not render_tune("X:1\nT:\u0422\u0430\u043d\u0435\u0446\nK:C\nCDEF|", ("mid",)).error
    assert midi_text("a\x01b caf\u00e9") == "ab caf\u00e9"


def test_a_sigkilled_write_leaves_no_complete_looking_files(tmp_path):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import sys, time
        from musicgen.render.output import save_tune_stream
        from musicgen.abc.tunebook import parse_tune
        tune = parse_tune("X:1\\nT:A\\nK:C\\nCDEF|")
        def batches():
            yield [tune]
            print("written", flush=True)
            time.sleep(60)
            yield [tune]
        save_tune_stream(batches(), 2, {str(out)!r}, formats=("abc", "mid"))
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not out.exists()
    assert [p.name.startswith(".out.partial-") for p in tmp_path.iterdir()] == [True]


@pytest.fixture()
def cli():
    from click.testing import CliRunner

    from musicgen.cli.main import main

    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def _one_line(result, code: int, fragment: str):
    lines = result.output.strip().splitlines()
    assert result.exit_code == code and len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and fragment in lines[0], result.output


@pytest.mark.parametrize(
    "options, fragment",
    [
        (("--meter", "7/0"), "M:7/0"),
        (("--meter", "abc"), "M:abc"),
        (("--key", "H"), "unknown key"),
        (("--bpm", "0"), "--bpm"),
        (("--bpm", "nan"), "--bpm"),
        (("--bpm", "1e9"), "--bpm"),
        (("-n", "0"), "-n must be"),
        (("--prime", "A" * 1001), "at most 1,000"),
        (("--title", "a\x01b"), "one non-empty line"),
        (("--max-length", "0"), "max_length"),
    ],
)
def test_generate_answers_impossible_values_in_one_line_before_sampling(cli, tmp_path, tiny_run, options, fragment):
    out = tmp_path / "g"
    _one_line(cli("generate", "--model", tiny_run, "--out", out, *options), 2, fragment)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_usage_and_value_errors_of_every_kind_are_one_line_with_status_2(cli):
    _one_line(cli("train", "--hidden-size", "-3"), 2, "hidden_size must be positive")
    _one_line(cli("generate", "--bogus"), 2, "No such option")
    _one_line(cli("convert", "x.abc", "--bpm", "0"), 2, "--bpm")
    _one_line(cli("play"), 2, "give a .abc or .mid file")
    for bare in ((), ("sentiment",)):  # no command at all: click's help, not an error line
        result = cli(*bare)
        assert "Usage:" in result.output and "Commands:" in result.output and "Error" not in result.output


def test_a_title_outside_latin_1_keeps_every_tune(cli, tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(
        "X:1\nT:\u0422\u0430\u043d\u0435\u0446\nK:C\nCDEF|\n\nX:2\nT:The \u201cCurly\u201d Reel \u2014 2\nK:G\nGABc|\n",
        encoding="utf-8",
    )
    result = cli("convert", book, "--to", "mid", "--out", tmp_path / "o")
    assert result.exit_code == 0 and "converted 2 of 2" in result.output, result.output
    names = [mido.MidiFile(p).tracks[0][0].name for p in sorted((tmp_path / "o").glob("*.mid"))]
    assert names == ["?????", 'The "Curly" Reel - 2']


def test_convert_refuses_a_fifo_and_skips_a_huge_tune(cli, tmp_path):
    fifo = tmp_path / "pipe.abc"
    os.mkfifo(fifo)
    _one_line(cli("convert", fifo, "--out", tmp_path / "o"), 1, "not a regular file")
    book = tmp_path / "book.abc"
    book.write_text("X:1\nT:Huge\nK:C\n" + "CDEF|" * 30_000 + "\n\nX:2\nT:Small\nK:C\nCDEF|\n")
    result = cli("convert", book, "--to", "mid", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "longer than 100,000 characters" in result.output
    assert [p.name for p in (tmp_path / "o").glob("*.mid")] == ["01-small.mid"]


def test_generate_into_a_read_only_folder_is_one_line_and_leaves_it_empty(cli, tmp_path, tiny_run, monkeypatch):
    import musicgen.render.output as output

    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o500)
    try:
        if os.access(out, os.W_OK):  # root writes anywhere: make the file system refuse instead

            def read_only(*args, **kwargs):
                raise OSError(30, "Read-only file system", str(out))

            monkeypatch.setattr(output.tempfile, "mkdtemp", read_only)
        _one_line(
            cli("generate", "--model", tiny_run, "-n", 1, "--out", out, "--max-length", 100), 1, "Read-only file system"
        )
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o700)


def _cli_process(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "musicgen", *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def _one_line_process(result, fragment: str):
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1 and lines[-1].startswith("Error: ") and fragment in lines[-1], lines
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr


def test_a_full_disk_is_one_line_for_every_writer(full_disk, tmp_path):
    sentences = tmp_path / "s.txt"
    sentences.write_text("".join(f"{'good' if i % 2 else 'bad'} film number {i}\t{i % 2}\n" for i in range(60)))
    pairs = tmp_path / "p.txt"
    pairs.write_text("".join(f"the cat {i}\tle chat {i}\n" for i in range(60)))
    small = ("--hidden-size", 64, "--embedding-size", 64, "--epochs", 1, "--quiet")  # over 64 KB of weights
    _one_line_process(
        _cli_process("sentiment", "train", sentences, "--out", full_disk / "s.pt", *small), "cannot write"
    )
    _one_line_process(
        _cli_process("translate", "train", "--pairs", pairs, "--out", full_disk / "t.pt", *small),
        "cannot write",
    )
    book = tmp_path / "book.abc"  # enough tunes to convert on a process pool
    book.write_text("".join(f"X:{i}\nT:T{i}\nM:4/4\nL:1/8\nK:G\n|:GABc dBGB|c2ec BGBd:|\n\n" for i in range(1, 13)))
    _one_line_process(
        _cli_process("convert", book, "--to", "mid,wav", "--out", full_disk / "c"), "No space left on device"
    )
    assert [p.name for p in full_disk.iterdir()] == []


def test_every_writer_into_a_read_only_place_is_one_line(read_only_disk, tmp_path, tiny_run, small_corpus):
    tiny = ("--hidden-size", 16, "--num-layers", 1, "--max-steps", 4, "--eval-interval", 2, "--quiet")
    _one_line_process(
        _cli_process("train", small_corpus, "--out", read_only_disk / "run", *tiny), "Read-only file system"
    )
    _one_line_process(
        _cli_process("lab", "gradients", "--quick", "--out", read_only_disk / "lab"), "Read-only file system"
    )
    _one_line_process(_cli_process("plot", tiny_run, "--out", read_only_disk / "c.png"), "Read-only file system")
    _one_line_process(
        _cli_process("generate", "--model", tiny_run, "-n", 1, "--max-length", 100, "--out", read_only_disk / "g"),
        "Read-only file system",
    )
    _one_line_process(
        _cli_process("generate", "--model", tiny_run, "-n", 1, "--max-length", 100, "--out", read_only_disk),
        "Read-only file system",
    )


def test_long_tunes_and_large_files_are_refused_before_the_work(tmp_path, monkeypatch):
    import musicgen.limits as limits
    from musicgen.abc.transpose import transpose_tune
    from musicgen.abc.tunebook import Tune, read_abc_file
    from musicgen.errors import CorpusError

    with pytest.raises(ConversionError, match="longer than 100,000 characters"):
        transpose_tune(Tune(1, {"K": "G"}, "GABc|" * 200_001, ""), "C")
    book = tmp_path / "big.abc"
    book.write_text("X:1\nK:C\n" + "CDEF|" * 300_000 + "\n")
    monkeypatch.setattr(limits, "MAX_ABC_FILE_BYTES", 1024 * 1024)
    with pytest.raises(CorpusError, match="a tunebook may have at most 1,048,576"):
        read_abc_file(book)


def test_serve_warns_when_it_listens_beyond_this_computer(cli, monkeypatch):
    import musicgen.web.app as app

    calls = []
    monkeypatch.setattr(app, "serve", lambda *args: calls.append(args))
    result = cli("serve", "--host", "0.0.0.0", "--port", 8123)
    assert result.exit_code == 0 and "Warning: --host 0.0.0.0 lets other computers" in result.output
    assert calls and calls[0][1:3] == ("0.0.0.0", 8123)
    quiet = cli("serve", "--host", "127.0.0.1")
    assert quiet.exit_code == 0 and "Warning" not in quiet.output
    assert app.is_loopback("::1") and app.is_loopback("localhost") and not app.is_loopback("192.168.1.2")


def test_long_work_shows_progress_that_moves(cli, tmp_path, tiny_run, tiny_book):
    generated = cli(
        "generate", "--model", tiny_run, "-n", 2, "--out", tmp_path / "g", "--max-length", 100, "--formats", "abc"
    )
    assert generated.exit_code == 0 and "composing 1-2" in generated.output
    scored = cli("evaluate", tiny_book, "--train", tiny_book, "--no-abc2midi")
    assert scored.exit_code == 0
    assert "indexing training tunes" in scored.output and "scoring: 100%" in scored.output


@pytest.mark.parametrize(
    "data",
    [
        b"MThd\xe2z\xd7_\xd3\x16\xed1\xdb4\xec\x07\xac",  # found by fuzz/campaign.py: a 3.8 GB header chunk
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x7f\xff\xff\xff\x00\x90\x3c\x40",  # a 2 GB track
        b"MThd\x00\x00\x00\x06\x00\x07\x00\x01\x01\xe0",  # type 7
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\xe7\x28",  # SMPTE time division
    ],
)
def test_midi_chunks_claiming_more_than_the_file_are_refused_before_reading(tmp_path, data):
    import resource

    from musicgen.render.audio import midi_to_wav

    source = tmp_path / "bad.mid"
    source.write_bytes(data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConversionError, match="not a readable MIDI file"):
        midi_to_wav(source, tmp_path / "bad.wav")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KB
    assert not (tmp_path / "bad.wav").exists()


def test_accompaniment_and_voices_are_bounded():
    from musicgen.abc.chords import default_gchord
    from musicgen.errors import ConversionError
    from musicgen.render.midi import melody_to_midi_file

    assert default_gchord("99/1") is None  # no 99-step pattern: the bar plays no accompaniment
    assert not render_tune('X:1\nT:t\nM:99/1\nK:C\n"C"CDEF|\n', ("mid",)).error
    many = "X:1\nT:t\nK:C\n" + "".join(f"V:{i}\nC|\n" for i in range(20))
    assert "more than 13 voices" in render_tune(many, ("mid",)).error
    from musicgen.abc.melody import abc_to_melody

    tiny_bars = "X:1\nT:t\nM:1/64\nL:1/64\nQ:1/4=1000\nK:C\n%%MIDI gchord " + "c" * 64 + '\n"C9"' + "C|" * 4000
    with pytest.raises(ConversionError, match="more than 100,000 notes"):
        melody_to_midi_file(abc_to_melody(tiny_bars))
