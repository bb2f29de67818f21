"""Optional parts: a missing extra is one line naming what to install, and plain generation works without them."""

import sys

import pytest
from click.testing import CliRunner

from musicgen.cli.main import main
from musicgen.extras import EXTRAS, MissingExtraError, available, need

TUNE = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n"


def hide(monkeypatch, *names):
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError


def test_need_names_the_extra_to_install(monkeypatch):
    hide(monkeypatch, "verovio")
    with pytest.raises(MissingExtraError, match=r"pip install 'musicgen\[sheet\]'"):
        need("verovio")
    assert not available("sheet")
    assert {extra for extra, _ in EXTRAS.values()} == {"audio", "sheet", "plots", "corpus", "web", "play", "text"}


def test_pyproject_extras_hold_what_the_code_needs():
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pip_name = {"rtmidi": "python-rtmidi"}
    for module, (extra, _) in EXTRAS.items():
        wanted = pip_name.get(module, module).replace("_", "-").lower()
        assert any(r.lower().replace("_", "-").startswith(wanted) for r in extras[extra]), (module, extra)
    assert not any(name.split(">")[0] in {*EXTRAS, "music21", "pretty_midi"} for name in project["dependencies"])


def test_generate_without_the_audio_extra_writes_abc_and_midi_and_says_why(monkeypatch, tmp_path):
    hide(monkeypatch, "midirenderer", "pretty_midi")
    out = tmp_path / "tunes"
    result = CliRunner().invoke(main, ["generate", "-n", "2", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "musicgen[audio]" in result.output
    assert sorted(p.suffix for p in out.iterdir()) == [".abc", ".abc", ".abc", ".mid", ".mid"]
    wav = CliRunner().invoke(main, ["generate", "-n", "1", "--out", str(tmp_path / "w"), "--formats", "abc,wav"])
    assert wav.exit_code == 1 and "musicgen[audio]" in wav.output and not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    "hidden, args, extra",
    [
        (("midirenderer", "pretty_midi"), ["--to", "wav"], "audio"),
        (("verovio",), ["--to", "svg"], "sheet"),
        (("matplotlib",), ["--to", "roll"], "plots"),
    ],
)
def test_convert_without_an_extra_is_one_line_and_leaves_nothing(monkeypatch, tmp_path, hidden, args, extra):
    hide(monkeypatch, *hidden)
    book = tmp_path / "book.abc"
    book.write_text(TUNE)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(book), "--out", str(out), *args])
    assert result.exit_code == 1
    message = result.output.strip().splitlines()
    assert message[-1].startswith("Error:") and f"musicgen[{extra}]" in message[-1]
    assert not out.exists()
