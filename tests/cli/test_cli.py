"""The command line, through click's test runner and as a real process."""

import re
import subprocess
import sys

import pytest


def one_line_error(result, *fragments):
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[-1]


def test_help_lists_the_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in ("train", "generate", "corpus"):
        assert command in result.output


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "musicgen", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "generate" in result.stdout


def test_help_does_not_import_torch():
    code = (
        "import sys; from musicgen.cli.main import main; assert 'torch' not in sys.modules; "
        "assert 'music21' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_corpus_reports_counts_skips_vocabulary_and_lengths(run, tiny_book):
    result = run("corpus", tiny_book, "--show-skipped")
    assert result.exit_code == 0
    assert "total" in result.output and "vocabulary:" in result.output and "tune length" in result.output
    assert "1  no K: field" in result.output
    assert "skipped tiny.abc X:3 (No key here): no K: field" in result.output


def test_train_then_generate(run, tmp_path, small_corpus):
    run_dir = tmp_path / "run"
    result = run(
        "train",
        small_corpus,
        "--out",
        run_dir,
        "--hidden-size",
        24,
        "--num-layers",
        1,
        "--max-steps",
        12,
        "--eval-interval",
        6,
        "--batch-size",
        16,
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert "best validation" in result.output and (run_dir / "model.pt").is_file()
    resumed = run("train", small_corpus, "--resume", run_dir, "--max-steps", 18, "--quiet")
    assert resumed.exit_code == 0 and "at step 18" in resumed.output

    out = tmp_path / "tunes"
    result = run("generate", "--model", run_dir, "-n", 8, "--seed", 1, "--out", out, "--max-length", 300)
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("0*.abc"))) == 8
    tunebook = (out / "tunebook.abc").read_text()
    assert re.findall(r"^X:(\d+)$", tunebook, flags=re.MULTILINE) == [str(i) for i in range(1, 9)]
    assert all(path.read_text().strip() in tunebook for path in out.glob("0*.abc"))
    assert "wrote 8 tunes" in result.output and str(out) in result.output


def test_generate_refuses_to_overwrite(run, tmp_path, tiny_run):
    out = tmp_path / "tunes"
    assert run("generate", "--model", tiny_run, "-n", 1, "--seed", 1, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run("generate", "--model", tiny_run, "-n", 1, "--seed", 2, "--out", out)
    one_line_error(again, "already exists", "--force")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "missing.abc"], ["missing.abc", "no such file or folder"]),
        (["generate", "--model", "missing.pt"], ["missing.pt", "no such checkpoint"]),
        (["corpus", "missing-folder"], ["no such file or folder"]),
    ],
)
def test_missing_files(run, tmp_path, args, fragments):
    one_line_error(run(*args), *fragments)


def test_empty_corpus(run, tmp_path):
    (tmp_path / "empty.abc").write_text("")
    one_line_error(run("corpus", tmp_path / "empty.abc"), "no usable tune")
    one_line_error(run("train", tmp_path / "empty.abc", "--out", tmp_path / "run"), "no usable tune")


def test_corrupt_checkpoint(run, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 garbage")
    one_line_error(run("generate", "--model", bad, "--out", tmp_path / "out"), "bad.pt")
    assert not (tmp_path / "out").exists()


def test_unknown_prime_characters(run, tmp_path, tiny_run):
    one_line_error(run("generate", "--model", tiny_run, "--prime", "K:D€", "--out", tmp_path / "o"), "'€'")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["generate", "--temperature", "0"], "temperature must be positive"),
        (["generate", "-n", "0"], "n must be at least 1"),
        (["generate", "--top-p", "2"], "top_p must be in range"),
        (["generate", "--key", " "], "one non-empty line"),
        (["generate", "--meter", "6/8", "--header-drafts", "0"], "header_drafts must be 1 or more"),
        (["generate", "--end-drafts", "0"], "end_drafts must be 1 or more"),
        (["generate", "--bar-tries", "-1"], "bar_tries must be 0 or more"),
        (["generate", "--prime", "M:3/4\\nK:D\\nABc|", "--meter", "6/8"], "put those lines in the prime"),
    ],
)
def test_impossible_generate_options(run, tmp_path, tiny_run, args, fragment):
    result = run(*args, "--model", tiny_run, "--out", tmp_path / "o")
    one_line_error(result, fragment)
    assert not (tmp_path / "o").exists()


def test_impossible_train_options(run, tmp_path, small_corpus):
    result = run("train", small_corpus, "--hidden-size", 0, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "hidden_size must be positive" in result.output
    result = run("train", small_corpus, "--dropout", 1.5, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "dropout must be in range" in result.output
    assert not (tmp_path / "r").exists()


def test_convert_tunebook_to_midi_and_wav(run, tmp_path, tiny_book):
    import pretty_midi

    out = tmp_path / "book"
    result = run("convert", tiny_book, "--out", out, "--instrument", "flute", "--bpm", 150)
    assert result.exit_code == 0, result.output
    assert "converted 4 of 4 tunes" in result.output
    mids = sorted(out.glob("*.mid"))
    assert [p.stem for p in mids] == ["01-the-kesh", "02-drowsy-maggie", "03-the-kesh", "04-polska-with-no-l"]
    assert len(list(out.glob("*.wav"))) == 4
    assert pretty_midi.PrettyMIDI(str(mids[1])).instruments[0].program == 73
    again = run("convert", tiny_book, "--out", out)
    one_line_error(again, "already exists")


def test_convert_plays_chord_symbols_unless_told_not_to(run, tmp_path):
    import mido

    book = tmp_path / "lead.abc"
    book.write_text('X:1\nT:Lead\nM:3/4\nL:1/4\nK:G\n"G"GAB|"D7"A3|"G"G3|]\n')
    result = run("convert", book, "--to", "mid", "--out", tmp_path / "with", "--bass-instrument", "fingered-bass")
    assert result.exit_code == 0, result.output
    tracks = mido.MidiFile(tmp_path / "with" / "01-lead.mid").tracks
    assert [t.name for t in tracks] == ["Lead", "Bass", "Chords"]
    assert [m.program for m in tracks[1] if m.type == "program_change"] == [33]
    result = run("convert", book, "--to", "mid", "--out", tmp_path / "without", "--no-accompaniment")
    assert len(mido.MidiFile(tmp_path / "without" / "01-lead.mid").tracks) == 1
    one_line_error(run("convert", book, "--chord-instrument", "kazoo", "--out", tmp_path / "bad"), "kazoo")
    assert not (tmp_path / "bad").exists()


def test_convert_reports_bad_tunes_and_converts_the_rest(run, tmp_path):
    book = tmp_path / "mixed.abc"
    book.write_text("X:1\nT:Good\nK:D\nDEF|\n\nX:2\nT:Bad\nL:0\nK:D\nDEF|\n\nX:3\nT:Also good\nK:G\nGAB|\n")
    result = run("convert", book, "--to", "mid", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "not converted: 02-bad: X:2 (Bad): L:0" in result.output
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mid")) == ["01-good.mid", "03-also-good.mid"]


def test_convert_midi_to_wav_and_bad_inputs(run, tmp_path, tiny_book):
    run("convert", tiny_book, "--to", "mid", "--out", tmp_path / "b")
    midi = tmp_path / "b" / "01-the-kesh.mid"
    result = run("convert", midi, "--renderer", "additive")
    assert result.exit_code == 0 and (tmp_path / "b" / "01-the-kesh.wav").is_file()
    one_line_error(run("convert", tmp_path / "none.abc"), "no such file")
    one_line_error(run("convert", tiny_book, "--to", "mp3", "--out", tmp_path / "c"), "mp3")
    one_line_error(run("convert", tiny_book, "--instrument", "kazoo", "--out", tmp_path / "c"), "kazoo")
    assert not (tmp_path / "c").exists()


def test_generate_writes_abc_mid_and_wav_by_default(run, tmp_path, tiny_run):
    out = tmp_path / "g"
    result = run(
        "generate",
        "--model",
        tiny_run,
        "-n",
        2,
        "--seed",
        3,
        "--out",
        out,
        "--prime",
        "T:Primed\\nM:4/4\\nL:1/8\\nK:D\\nDEFG ABcd|",
        "--max-length",
        80,
    )
    assert result.exit_code == 0, result.output
    for suffix in ("abc", "mid", "wav"):
        assert len(list(out.glob(f"0*.{suffix}"))) == 2, (suffix, result.output)


def test_play_errors(run, tmp_path):
    one_line_error(run("play", tmp_path / "none.abc"), "no such file")
    assert run("play").exit_code == 2


def test_generate_streams_batches_to_disk(run, tmp_path, tiny_run):
    out = tmp_path / "many"
    result = run(
        "generate",
        "--model",
        tiny_run,
        "-n",
        10,
        "--batch-size",
        3,
        "--seed",
        4,
        "--formats",
        "abc",
        "--out",
        out,
        "--max-length",
        120,
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.glob("*.abc") if p.name != "tunebook.abc")
    assert [n[:3] for n in names] == [f"{i:02d}-" for i in range(1, 11)]
    numbers = [line for line in (out / "tunebook.abc").read_text().splitlines() if line.startswith("X:")]
    assert numbers == [f"X:{i}" for i in range(1, 11)]
    assert not list(out.glob(".*partial"))


def test_generate_float32_gives_the_library_tunes_and_int8_its_own(run, tmp_path, tiny_run):
    from musicgen.model.lm import load_model
    from musicgen.sampling.sampler import generate as sample_tunes

    model, dance = load_model(tiny_run), {"N": "AABB 8"}  # what a plain generate asks for
    expected = [t.abc for t in sample_tunes(model, n=3, seed=4, temperature=0.85, max_length=300, header=dance)]
    for flag in ("--float32", "--int8"):
        out = tmp_path / flag.strip("-")
        result = run(
            "generate",
            "--model",
            tiny_run,
            "-n",
            3,
            "--seed",
            4,
            "--max-length",
            300,
            "--formats",
            "abc",
            "--out",
            out,
            flag,
        )
        assert result.exit_code == 0, result.output
        written = [path.read_text() for path in sorted(out.glob("0*.abc"))]
        assert len(written) == 3
        if flag == "--float32":
            assert written == expected


def test_a_model_that_moves_keys_writes_each_tune_in_the_key_asked(run, tmp_path, tonic_run):
    out = tmp_path / "dmix"
    result = run(
        "generate",
        "--model",
        tonic_run,
        "-n",
        3,
        "--seed",
        2,
        "--key",
        "Dmix",
        "--meter",
        "6/8",
        "--formats",
        "abc",
        "--out",
        out,
        "--max-length",
        300,
    )
    assert result.exit_code == 0, result.output
    keys = [line for line in (out / "tunebook.abc").read_text().splitlines() if line.startswith("K:")]
    assert keys and set(keys) == {"K:Dmix"}
    one_line_error(
        run("generate", "--model", tonic_run, "--key", "none", "--out", tmp_path / "o"), "give a key with a tonic"
    )
    assert not (tmp_path / "o").exists()


def test_train_refuses_a_tonic_that_is_not_a_note(run, tmp_path, small_corpus):
    result = run("train", small_corpus, "--tonic", "H", "--out", tmp_path / "r")
    assert result.exit_code == 2 and "tonic must be a note name" in result.output
    assert not (tmp_path / "r").exists()


def test_the_readme_convert_examples_run_in_order(run, tmp_path, tiny_book):
    book = tmp_path / "book.abc"
    book.write_bytes(tiny_book.read_bytes())
    first = run("convert", book, "--instrument", "fiddle", "--bpm", 110, "--to", "mid")
    assert first.exit_code == 0, first.output
    second = run("convert", book, "--to", "svg,roll")  # adds files beside the first run's
    assert second.exit_code == 0, second.output
    names = {p.suffix for p in (tmp_path / "book").iterdir()}
    assert {".mid", ".svg", ".png", ".abc"} <= names
    changed = run("convert", book, "--instrument", "flute", "--to", "mid")  # different files: not replaced
    one_line_error(changed, "already exists", "--force")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--form", "ABAB"], "give the parts in order"),
        (["--form", "AABB", "--part-bars", "0"], "part-bars must be in range 1..64"),
        (["--form", "any", "--part-bars", "8"], "--part-bars needs a form"),
        (["--style", "irish\x07"], "one non-empty line"),
    ],
)
def test_impossible_form_and_style_options(run, tmp_path, tiny_run, args, fragment):
    result = run("generate", *args, "--model", tiny_run, "--out", tmp_path / "o")
    one_line_error(result, fragment)
    assert result.exit_code == 2 and not (tmp_path / "o").exists()


def test_harmonize_writes_a_tunebook_with_chords_and_keeps_what_it_cannot(run, tmp_path):
    book = tmp_path / "tunes.abc"
    book.write_text(
        "X:1\nT:Jig\nM:6/8\nL:1/8\nK:G\nGAG GAB|ABA ABd|edd gdB|AGF G3|]\n\n"
        "X:2\nT:Drone\nM:4/4\nL:1/8\nK:none\nCDEF GABc|\n\n"
        'X:3\nT:Own\nM:3/4\nL:1/4\nK:D\n"D"DFA|"A7"GEC|"D"D3|]\n'
    )
    result = run("harmonize", book)
    assert result.exit_code == 0, result.output
    assert "harmonised 2 of 3 tunes" in result.output and "not harmonised: X:2 (Drone)" in result.output
    written = (tmp_path / "tunes.chords.abc").read_text()
    from musicgen.abc.tunebook import parse_tunebook

    tunes, skipped = parse_tunebook(written)
    assert not skipped and len(tunes) == 3
    assert tunes[0].body.startswith('"G"') and '"' not in tunes[1].body and '"A7"GEC' in tunes[2].body
    one_line_error(run("harmonize", book), "already exists", "--force")
    assert run("harmonize", book, "--force", "--replace").exit_code == 0
    one_line_error(run("harmonize", tmp_path / "missing.abc", "--out", tmp_path / "m.abc"), "no such file")
    assert not (tmp_path / "m.abc").exists()


def test_generate_with_chords_writes_and_plays_them(run, tmp_path, tiny_run):
    out = tmp_path / "g"
    result = run(
        "generate",
        "--model",
        tiny_run,
        "-n",
        2,
        "--seed",
        3,
        "--out",
        out,
        "--chords",
        "--formats",
        "abc,mid",
        "--prime",
        "T:Primed\\nM:4/4\\nL:1/8\\nK:D\\nDEFG ABcd|",
        "--max-length",
        80,
    )
    assert result.exit_code == 0, result.output
    book = (out / "tunebook.abc").read_text()
    assert '"D"' in book  # the primed first bar is a D major arpeggio


def test_convert_plays_every_voice(run, tmp_path):
    import mido

    book = tmp_path / "duet.abc"
    book.write_text("X:1\nT:Duet\nM:3/4\nL:1/4\nV:1\nV:2 clef=bass\nK:G\nV:1\nGAB|d3|]\nV:2\nG,B,D|G,3|]\n")
    result = run("convert", book, "--to", "mid", "--out", tmp_path / "out")
    assert result.exit_code == 0 and "skipped" not in result.output, result.output
    assert [t.name for t in mido.MidiFile(tmp_path / "out" / "01-duet.mid").tracks] == ["Duet", "Voice 2"]
