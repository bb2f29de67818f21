"""The local web page: its API with a test client, and the page itself in headless Chromium."""

from __future__ import annotations

import io
import shutil
import socket
import threading
import time
import xml.etree.ElementTree as ElementTree

import mido
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette) is not installed")
TestClient = pytest.importorskip("starlette.testclient", reason="starlette's test client needs httpx2").TestClient

from musicgen.web.app import MAX_TUNES, create_app  # noqa: E402

TUNE = "X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:G\n|:GABc dBGB|c2ec BGBd:|\n"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def bundled_model():
    from musicgen.sample import load_model

    return load_model()


@pytest.fixture()
def client(bundled_model, tmp_path):
    return TestClient(create_app(bundled_model, tmp_path / "serve"))


def _finish(client, job: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while not job["finished"] and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["finished"], job
    return job


def test_generate_writes_real_files(client):
    started = client.post("/api/generate", json={"n": 1, "seed": 1, "key": "Dmix", "meter": "6/8"})
    assert started.status_code == 202
    job = _finish(client, started.json())
    assert not job["error"] and len(job["tunes"]) == 1
    tune = job["tunes"][0]
    assert "K:Dmix" in tune["abc"] and "M:6/8" in tune["abc"]
    assert sorted(tune["files"]) == ["abc", "mid", "svg", "wav"], tune["error"]
    midi = mido.MidiFile(file=io.BytesIO(client.get(tune["files"]["mid"]).content))
    assert sum(m.type == "note_on" and m.velocity > 0 for m in midi) > 10
    ElementTree.fromstring(client.get(tune["files"]["svg"]).content)
    assert client.get(tune["files"]["wav"]).content[:4] == b"RIFF"


def test_render_an_edited_tune(client):
    tune = client.post("/api/render", json={"abc": TUNE}).json()
    assert tune["title"] == "Test Reel" and not tune["error"]
    assert client.get(tune["files"]["svg"]).status_code == 200


@pytest.mark.parametrize("body, message", [
    ({"n": MAX_TUNES + 1}, "n must be in range"),
    ({"temperature": "hot"}, "temperature must be a number"),
    ({"prime": "x" * 5000}, "prime must be text"),
    ({"key": "D\nT:sneaky"}, "one non-empty line"),
])
def test_bad_generation_requests_are_refused(client, body, message):
    response = client.post("/api/generate", json=body)
    assert response.status_code == 400 and message in response.json()["error"]


def test_bounds_on_bodies_and_tunes(client):
    assert client.post("/api/render", content=b"x" * 70_000).status_code == 400
    assert client.post("/api/render", content=b"not json").status_code == 400
    assert client.post("/api/render", json={"abc": "A" * 20_000}).status_code == 400
    assert client.get("/api/jobs/nope").status_code == 404


@pytest.mark.parametrize("path", [
    "/files/../../etc/passwd", "/files/..%2F..%2Fetc/passwd", "/files/g1/..%2F..%2F..%2Fetc%2Fpasswd",
    "/files/%2E%2E/passwd", "/static/app.py", "/static/..%2Fapp.py",
])
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
    server = uvicorn.Server(uvicorn.Config(create_app(bundled_model, tmp_path / "serve"), host="127.0.0.1",
                                           port=port, log_level="warning"))
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
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"])
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
        page.wait_for_function("() => { const i = document.querySelector('.tune .notation');"
                               " return i && i.complete && i.naturalWidth > 0; }", timeout=120_000)
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
        page.wait_for_function("(old) => { const i = document.querySelector('.tune .notation');"
                               " return i.getAttribute('src') !== old && i.complete && i.naturalWidth > 0; }",
                               arg=old_source, timeout=60_000)
        assert card.locator(".title").text_content() == "Edited Tune"

        with page.expect_download() as download:
            card.locator(".mid-link").click()
        saved = tmp_path / "download.mid"
        download.value.save_as(saved)
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        browser.close()
    midi = mido.MidiFile(saved)
    assert sum(m.type == "note_on" and m.velocity > 0 for m in midi) > 10
    assert problems == [], problems
