"""The local web page: its API with a test client, and the page itself in headless Chromium."""

from __future__ import annotations

import io
import json
import shutil
import socket
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import mido
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
TestClient = pytest.importorskip("starlette.testclient", reason="starlette's test client needs httpx2").TestClient

from musicgen.web.app import MAX_TUNES, create_app  # noqa: E402

TUNE = "X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:G\n|:GABc dBGB|c2ec BGBd:|\n"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def bundled_model():
    from musicgen.model.lm import load_model

    return load_model()


@pytest.fixture()
def client(bundled_model, tmp_path):
    app = create_app(bundled_model, tmp_path / "serve")
    yield TestClient(app, base_url="http://127.0.0.1:8000")
    app.state.studio.close()  # no job left sampling on the shared model


def _finish(client, job: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while not job["finished"] and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["finished"], job
    return job


def test_generate_writes_real_files(client):
    started = client.post("/api/generate", json={"n": 1, "seed": 1, "key": "Dmix", "meter": "6/8", "chords": True})
    assert started.status_code == 202
    job = _finish(client, started.json())
    assert not job["error"] and len(job["tunes"]) == 1
    tune = job["tunes"][0]
    assert "K:Dmix" in tune["abc"] and "M:6/8" in tune["abc"]
    assert sorted(tune["files"]) == ["abc", "mid", "svg", "wav"], tune["error"]
    midi = mido.MidiFile(file=io.BytesIO(client.get(tune["files"]["mid"]).content))
    assert sum(m.type == "note_on" and m.velocity > 0 for m in midi) > 10
    assert '"D"' in tune["abc"] and [t.name for t in midi.tracks][-2:] == ["Bass", "Chords"]  # harmonised
    ElementTree.fromstring(client.get(tune["files"]["svg"]).content)
    assert client.get(tune["files"]["wav"]).content[:4] == b"RIFF"


def test_render_an_edited_tune(client):
    tune = client.post("/api/render", json={"abc": TUNE}).json()
    assert tune["title"] == "Test Reel" and not tune["error"]
    assert client.get(tune["files"]["svg"]).status_code == 200


@pytest.mark.parametrize(
    "body, message",
    [
        ({"n": MAX_TUNES + 1}, "n must be in range"),
        ({"temperature": "hot"}, "temperature must be a number"),
        ({"prime": "x" * 5000}, "prime must be text"),
        ({"key": "D\nT:sneaky"}, "one non-empty line"),
        ({"chords": "yes"}, "chords must be true or false"),
    ],
)
def test_bad_generation_requests_are_refused(client, body, message):
    response = client.post("/api/generate", json=body)
    assert response.status_code == 400 and message in response.json()["error"]


def test_bounds_on_bodies_and_tunes(client):
    as_json = {"content-type": "application/json"}
    assert client.post("/api/render", content=b"x" * 70_000, headers=as_json).status_code == 413
    assert client.post("/api/render", content=b"not json", headers=as_json).status_code == 400
    assert client.post("/api/render", json={"abc": "A" * 20_000}).status_code == 400
    assert client.get("/api/jobs/nope").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../etc/passwd",
        "/files/..%2F..%2Fetc/passwd",
        "/files/g1/..%2F..%2F..%2Fetc%2Fpasswd",
        "/files/%2E%2E/passwd",
        "/static/app.py",
        "/static/..%2Fapp.py",
    ],
)
def test_only_the_output_folder_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404 and b"root:" not in response.content


def test_page_forbids_foreign_scripts(client):
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/page.js").headers["content-type"].startswith("text/javascript")


# --- the page in a real browser -------------------------------------------------------------


@pytest.fixture()
def live_server(bundled_model, tmp_path):
    uvicorn = pytest.importorskip("uvicorn")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(bundled_model, tmp_path / "serve"), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_page_end_to_end_in_chromium(live_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    title = "<script>window.hacked=1</script> & <b>Jig</b>"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        page = browser.new_page()
        problems = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(live_server)
        page.fill("input[name=n]", "1")
        page.fill("input[name=seed]", "3")
        page.fill("input[name=title]", title)
        page.click("#generate")
        page.wait_for_function(
            "() => { const i = document.querySelector('.tune .notation');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=120_000,
        )
        card = page.locator(".tune").first
        assert card.locator(".title").text_content() == title  # shown as text, not markup
        assert page.evaluate("window.hacked") is None and page.locator(".tune b").count() == 0

        card.locator(".play").click()
        page.wait_for_function("() => document.querySelector('.tune .audio').currentTime > 0", timeout=20_000)

        old_source = card.locator(".notation").get_attribute("src")
        abc = card.locator(".abc").input_value()
        edited = "\n".join("T:Edited Tune" if line.startswith("T:") else line for line in abc.splitlines())
        card.locator(".abc").fill(edited + "\n")
        card.locator(".update").click()
        page.wait_for_function(
            "(old) => { const i = document.querySelector('.tune .notation');"
            " return i.getAttribute('src') !== old && i.complete && i.naturalWidth > 0; }",
            arg=old_source,
            timeout=60_000,
        )
        assert card.locator(".title").text_content() == "Edited Tune"

        with page.expect_download() as download:
            card.locator(".mid-link").click()
        saved = tmp_path / "download.mid"
        download.value.save_as(saved)

        card.locator(".abc").fill("X:1\nT:Broken\nL:1\nQ:1/4=4\nK:C\n" + "z64|" * 40 + "\n")
        card.locator(".update").click()  # an edit that cannot sound: said so, the old audio gone
        page.wait_for_function(
            "() => document.querySelector('#message').textContent.startsWith('Not all')", timeout=60_000
        )
        assert card.locator(".error").is_visible() and card.locator(".audio").get_attribute("src") is None
        page.fill("input[name=key]", "H")
        page.click("#generate")  # a refused request keeps the tunes already shown
        page.wait_for_function(
            "() => document.querySelector('#message').textContent.includes('unknown key')", timeout=20_000
        )
        assert page.locator(".tune").count() == 1
        problems.remove(next(p for p in problems if p.startswith("400 ")))  # the refused request, as expected
        problems[:] = [p for p in problems if "400 (Bad Request)" not in p]
        page.fill("input[name=key]", "")
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        browser.close()
    midi = mido.MidiFile(saved)
    assert sum(m.type == "note_on" and m.velocity > 0 for m in midi) > 10
    assert problems == [], problems


# --- hostile requests ---------------------------------------------------------------------------


def test_foreign_hosts_origins_and_bodies_that_are_not_json_are_refused(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 421
    assert client.get("/api/jobs/g1", headers={"host": "rebound.example:8000"}).status_code == 421
    evil = {"origin": "http://evil.example"}
    assert client.post("/api/render", json={"abc": TUNE}, headers=evil).status_code == 403
    assert client.post("/api/generate", json={"n": 1}, headers={"origin": "null"}).status_code == 403
    plain = {"content-type": "text/plain"}
    assert client.post("/api/render", content=json.dumps({"abc": TUNE}), headers=plain).status_code == 415
    assert client.post("/api/generate", data={"n": "1"}).status_code == 415
    own = {"origin": "http://127.0.0.1:8000"}
    assert client.post("/api/render", json={"abc": TUNE}, headers=own).status_code == 200


_HOSTILE = [
    '{"n": 1e999}',
    '{"seed": 1e999}',
    '{"n": true}',
    '{"n": 16.9}',
    '{"n": "1_6"}',
    '{"n": "2"}',
    '{"temperature": NaN}',
    '{"temperature": Infinity}',
    '{"title": "\\udfff"}',
    '{"meter": "0/0"}',
    '{"meter": "7/0"}',
    '{"key": "H"}',
    '{"prime": "\\ud800"}',
]
_EITHER = ["[" * 30_000 + "]" * 30_000, '{"n": ' + "9" * 5000 + "}", '"abc"', '{"a": 1}{']


@pytest.mark.parametrize(
    "url, raw",
    [("/api/generate", raw) for raw in _HOSTILE + _EITHER]
    + [("/api/render", raw) for raw in ['{"abc": "\\ud800"}', '{"abc": true}', '{"abc": 1e999}'] + _EITHER],
)
def test_hostile_values_get_a_400_not_a_500(client, url, raw):
    response = client.post(url, content=raw.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400, (url, response.text)
    assert "error" in response.json()


def test_an_unknown_key_is_called_one(client):
    response = client.post("/api/generate", json={"key": "H"})
    assert response.status_code == 400 and response.json()["error"].startswith("K:H: unknown key")


def test_a_huge_chunked_body_is_cut_off_at_the_bound(live_server):
    """The server answers 413 after reading about the bound, not the 1 GB offered."""
    host, port = live_server.removeprefix("http://").split(":")
    chunk = b"x" * 65_536
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST /api/render HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < 1024**3:
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                connection.settimeout(0.0 if sent < 1024**2 else 0.05)
                try:
                    if connection.recv(1, socket.MSG_PEEK):
                        break
                except (BlockingIOError, TimeoutError):
                    pass
                connection.settimeout(10)
        except (BrokenPipeError, ConnectionResetError):
            pass
        connection.settimeout(10)
        reply = connection.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < 64 * 1024**2, f"sent {sent:,} bytes before the answer"


def test_the_queue_is_bounded_and_jobs_can_be_cancelled(tmp_path, monkeypatch):
    from musicgen.web.studio import MAX_QUEUED, Busy, Studio

    studio = Studio(None, tmp_path)
    release = threading.Event()
    monkeypatch.setattr(studio, "run_job", lambda job, options: (release.wait(10), job.finish()))
    running = studio.submit(1, {})
    deadline = time.monotonic() + 5
    while studio.queue.qsize() and time.monotonic() < deadline:  # the worker takes the first job
        time.sleep(0.01)
    waiting = [studio.submit(1, {}) for _ in range(MAX_QUEUED)]
    with pytest.raises(Busy):
        studio.submit(1, {})
    assert threading.active_count() < 20  # one worker, not a thread a request
    studio.cancel(waiting[0].id)
    assert waiting[0].finished and waiting[0].error == "cancelled"
    assert all(job.id in studio.jobs for job in [running, *waiting])
    release.set()
    studio.close(10)
    assert not studio.worker.is_alive() and all(job.finished for job in [running, *waiting])


def test_unfinished_jobs_stay_in_the_table(tmp_path):
    from musicgen.web.studio import MAX_JOBS_KEPT, Job, Studio

    studio = Studio(None, tmp_path)
    queued = Job("g0", 1)
    studio._remember(queued)
    for number in range(1, MAX_JOBS_KEPT + 20):
        job = Job(f"g{number}", 1)
        job.finish()
        studio._remember(job)
    assert "g0" in studio.jobs and len(studio.jobs) == MAX_JOBS_KEPT


def test_disk_is_bounded_and_only_the_servers_own_files_are_served(bundled_model, tmp_path):
    app = create_app(bundled_model, tmp_path / "serve", disk_limit_bytes=1)
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    first = client.post("/api/render", json={"abc": TUNE}).json()
    second = client.post("/api/render", json={"abc": TUNE.replace("Test Reel", "Second")}).json()
    assert client.get(first["files"]["mid"]).status_code == 404
    assert client.get(second["files"]["mid"]).status_code == 200
    assert [p.name for p in (tmp_path / "serve").iterdir()] == [second["files"]["mid"].split("/")[2]]
    planted = tmp_path / "serve" / "e9" / "secret.txt"
    planted.parent.mkdir()
    planted.write_text("not yours")
    assert client.get("/files/e9/secret.txt").status_code == 404


def test_a_tune_asking_for_hours_of_sound_is_refused_without_rendering(client):
    abc = "X:1\nT:Bomb\nL:1\nQ:1/4=4\nK:C\n" + "z64|" * 312 + "C|\n"
    assert len(abc) < 1400
    tune = client.post("/api/render", json={"abc": abc}).json()
    assert "plays for" in tune["error"] and "wav" not in tune["files"] and "mid" not in tune["files"]


def test_the_page_reads_the_models_recommended_settings(bundled_model, tmp_path, monkeypatch):
    monkeypatch.setattr(bundled_model, "sampling", {"temperature": 0.6})
    app = create_app(bundled_model, tmp_path / "serve")
    try:
        settings = TestClient(app, base_url="http://127.0.0.1:8000").get("/api/settings").json()
    finally:
        app.state.studio.close()
    assert settings["temperature"] == 0.6 and settings["max_length"] == 1500
    assert "/api/settings" in (Path(__file__).parents[2] / "musicgen" / "web" / "page.js").read_text()


def test_the_page_asks_for_form_and_style_as_the_cli_does():
    import re

    from musicgen.abc.codes import STYLES
    from musicgen.errors import MusicgenError
    from musicgen.web.app import generation_options

    page = (Path(__file__).parents[2] / "musicgen" / "web" / "page.html").read_text()
    assert tuple(re.findall(r"<option>(\w+)</option>", page)) == STYLES
    assert generation_options({})[1]["header"] == {"N": "AABB 8"}  # a plain Generate: dance tunes
    assert "N" not in generation_options({"type": "reel"})[1]["header"]  # a reel's own form, drawn
    header = generation_options({"style": "irish", "form": "AB", "part_bars": 16})[1]["header"]
    assert header == {"O": "irish", "N": "AB 16"}
    with pytest.raises(MusicgenError, match="in order"):
        generation_options({"form": "ABAB"})
    assert generation_options({"chords": "on"})[1]["chords"] and not generation_options({})[1]["chords"]
    assert 'name="chords" type="checkbox"' in page
