"""Writing tunes: safe names, no clobbering, nothing half-written."""

import pytest

from musicgen.abc.tunebook import parse_tunebook
from musicgen.errors import MusicgenError
from musicgen.render.output import OutputFolder, save_tunes, slugify, tune_file_names


@pytest.fixture()
def tunes(tiny_book):
    return parse_tunebook(tiny_book.read_text())[0]


def test_slugs_are_safe():
    assert slugify("The Kesh") == "the-kesh"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("<script>\x00\n") == "script"
    assert slugify("Grüße, Zoë!") == "grue-zoe"
    assert slugify("///") == "tune"
    assert len(slugify("x" * 500)) <= 48


def test_names_are_numbered_and_unique():
    assert tune_file_names(["A", "A", ""], 2) == ["01-a", "02-a", "03-tune"]


def test_save_tunes_writes_each_tune_and_a_tunebook(tmp_path, tunes):
    paths = save_tunes(tunes, tmp_path / "out").paths
    assert [p.name for p in paths] == [
        "01-the-kesh.abc",
        "02-drowsy-maggie.abc",
        "03-the-kesh.abc",
        "04-polska-with-no-l.abc",
        "tunebook.abc",
    ]
    book = (tmp_path / "out" / "tunebook.abc").read_text()
    assert len(parse_tunebook(book)[0]) == 4


def test_existing_files_are_never_overwritten_without_force(tmp_path, tunes):
    out = tmp_path / "out"
    out.mkdir()
    (out / "tunebook.abc").write_text("precious")
    with pytest.raises(MusicgenError, match="already exists"):
        save_tunes(tunes, out)
    assert (out / "tunebook.abc").read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == ["tunebook.abc"]
    save_tunes(tunes, out, force=True)
    assert (out / "tunebook.abc").read_text() != "precious"


def test_failure_midway_removes_what_this_run_wrote(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(RuntimeError):
        with OutputFolder(out) as folder:
            folder.write("a.abc", "X:1")
            raise RuntimeError("disk trouble")
    assert not out.exists()


def test_read_only_folder_is_a_clear_error(tmp_path, tunes, monkeypatch):
    import os

    import musicgen.render.output as output

    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o500)
    try:
        if os.access(out, os.W_OK):  # root writes anywhere: make the file system refuse instead

            def read_only(path, write):
                raise OSError(30, "Read-only file system", str(path))

            monkeypatch.setattr(output, "atomic_write", read_only)
        with pytest.raises(MusicgenError, match="cannot write"):
            save_tunes(tunes, out)
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o700)


def test_disk_full_midway_leaves_nothing_behind(tmp_path, tunes, monkeypatch):
    import musicgen.render.output as output

    real_write, calls = output.atomic_write, []

    def fill_disk(path, write):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(path, write)

    monkeypatch.setattr(output, "atomic_write", fill_disk)
    with pytest.raises(MusicgenError, match="No space left on device"):
        save_tunes(tunes, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_batches_are_written_before_the_next_is_asked_for(tmp_path, tunes):
    from musicgen.render.output import save_tune_stream

    out = tmp_path / "stream"
    seen = []

    def batches():
        for _ in range(3):  # each batch is only made once the one before is on disk
            # staged in a hidden folder beside OUT until the last batch is written
            seen.append(sorted(p.name for p in tmp_path.glob(".stream.partial-*/[0-9]*.abc")))
            yield tunes[:1]

    saved = save_tune_stream(batches(), 3, out, formats=("abc",))
    assert [len(names) for names in seen] == [0, 1, 2]
    assert len([p for p in saved.paths if p.name != "tunebook.abc"]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stream"]


def test_a_new_folder_gets_ordinary_permissions(tmp_path, tunes):
    import os
    import stat

    out = tmp_path / "perm"
    save_tunes(tunes, out)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask for p in out.iterdir())
