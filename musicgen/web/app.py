"""``musicgen serve``: a local page to compose, see, hear, edit and download tunes.

A small Starlette app. The page (``page.html``, ``page.js``, ``page.css``, in
this package, no internet needed) asks the server to generate tunes with the
same options as the CLI; each tune is rendered by musicgen itself into
``.abc``, ``.mid``, ``.wav`` and ``.svg`` (verovio sheet music) under the
output folder, and the page shows the sheet music as an image, plays the WAV
and links the downloads. Editing the ABC re-renders it.

Safety: user text only ever reaches the page as JSON put into the document
with ``textContent``; SVGs are shown through ``<img>`` (which never runs
scripts); a Content-Security-Policy allows only this server's own scripts;
request bodies, tune counts and ABC lengths are bounded; files are served
only from the output folder, by names the server made.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from musicgen.errors import MusicgenError

logger = logging.getLogger(__name__)

MAX_TUNES = 16
MAX_BODY_BYTES = 64_000
MAX_ABC_CHARS = 10_000
MAX_PRIME_CHARS = 1_000
MAX_JOBS_KEPT = 100
STATIC = {"page.js": "text/javascript", "page.css": "text/css", "favicon.svg": "image/svg+xml"}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass
class Job:
    """One generation request: progress and the finished tunes."""

    id: str
    total: int
    phase: str = "sampling"
    done: int = 0
    tunes: list[dict] = field(default_factory=list)
    error: str = ""
    finished: bool = False

    def to_dict(self) -> dict:
        return {"id": self.id, "total": self.total, "phase": self.phase, "done": self.done,
                "tunes": self.tunes, "error": self.error, "finished": self.finished}


class Studio:
    """The server's state: the model, the output folder and the jobs (one instance per app)."""

    def __init__(self, model, out_dir: Path):
        self.model, self.out_dir = model, Path(out_dir)
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.model_lock = threading.Lock()  # one sampling at a time: the model is not reentrant
        self.counter = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        with self.lock:
            return f"{prefix}{next(self.counter)}"

    def render(self, folder: str, number: int, abc: str) -> dict:
        """Write one tune's files under ``folder``; the tune's JSON for the page."""
        from musicgen.convert import render_tune
        from musicgen.output import slugify
        from musicgen.tunebook import parse_tune

        try:
            title = parse_tune(abc).title
        except MusicgenError:
            title = ""
        stem = f"{number:02d}-{slugify(title)}"
        result = render_tune(abc, ("abc", "mid", "wav", "svg"))
        target = self.out_dir / folder
        target.mkdir(parents=True, exist_ok=True)
        files = {}
        for extension, data in result.files.items():
            (target / f"{stem}.{extension}").write_bytes(data)
            files[extension] = f"/files/{folder}/{stem}.{extension}"
        return {"number": number, "title": title, "abc": abc, "files": files, "error": result.error}

    def run_job(self, job: Job, options: dict) -> None:
        """Sample, then render each tune, updating ``job`` as it goes (in a worker thread)."""
        from musicgen.sample import generate

        try:
            with self.model_lock:
                tunes = generate(self.model, n=job.total, **options)
            job.phase = "rendering"
            for tune in tunes:
                job.tunes.append(self.render(job.id, tune.number, tune.abc))
                job.done += 1
        except MusicgenError as error:
            job.error = str(error)
        except Exception as error:  # a worker must always finish its job
            logger.exception("generation failed")
            job.error = f"generation failed: {error}"
        job.finished = True

    def remember(self, job: Job) -> None:
        with self.lock:
            self.jobs[job.id] = job
            while len(self.jobs) > MAX_JOBS_KEPT:
                self.jobs.pop(next(iter(self.jobs)))


def _bad(message: str, status: int = 400):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request) -> dict:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"request too large (at most {MAX_BODY_BYTES:,} bytes)")
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("request body is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("request body must be a JSON object")
    return data


def generation_options(data: dict) -> tuple[int, dict]:
    """The tune count and :func:`musicgen.generate` options from a request, checked.

    Raises:
        ValueError: a value is missing its type or out of range.
    """
    from musicgen.sample import header_fields

    def number(name, kind, default, low, high):
        value = data.get(name, default)
        if value in (None, ""):
            return default
        try:
            value = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number") from None
        if not low <= value <= high:
            raise ValueError(f"{name} must be in range {low}..{high}")
        return value

    def text(name, limit):
        value = data.get(name)
        if value in (None, ""):
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(f"{name} must be text of at most {limit} characters")
        return value

    count = number("n", int, 1, 1, MAX_TUNES)
    header = header_fields(key=text("key", 20), meter=text("meter", 20), title=text("title", 200),
                           tune_type=text("type", 40))
    prime = text("prime", MAX_PRIME_CHARS)
    return count, {"temperature": number("temperature", float, 0.85, 0.05, 3.0),
                   "seed": number("seed", int, None, 0, 2**31 - 1),
                   "prime": prime.replace("\\n", "\n") if prime else None,
                   "header": header, "max_length": 1500}


def create_app(model=None, out_dir: Path | str = Path("outputs/serve")):
    """The Starlette application; ``model`` None loads the bundled model."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    from musicgen.sample import load_model

    studio = Studio(model if model is not None else load_model(), out_dir)
    headers = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer"}

    def asset(name: str) -> bytes:
        return (resources.files("musicgen.web") / name).read_bytes()

    async def page(request):
        return Response(asset("page.html"), media_type="text/html; charset=utf-8", headers=headers)

    async def static(request):
        name = request.path_params.get("name", "favicon.svg")
        if name not in STATIC:
            return _bad("no such file", 404)
        return Response(asset(name), media_type=STATIC[name], headers=headers)

    async def start(request):
        try:
            count, options = generation_options(await _json_body(request))
        except (ValueError, MusicgenError) as error:
            return _bad(str(error))
        job = Job(studio.new_id("g"), count)
        studio.remember(job)
        threading.Thread(target=studio.run_job, args=(job, options), daemon=True).start()
        return JSONResponse(job.to_dict(), status_code=202, headers=headers)

    async def status(request):
        job = studio.jobs.get(request.path_params["job"])
        if job is None:
            return _bad("no such job", 404)
        return JSONResponse(job.to_dict(), headers=headers)

    async def render(request):
        try:
            abc = (await _json_body(request)).get("abc")
        except ValueError as error:
            return _bad(str(error))
        if not isinstance(abc, str) or not abc.strip() or len(abc) > MAX_ABC_CHARS:
            return _bad(f"abc must be a tune of 1 to {MAX_ABC_CHARS:,} characters")
        tune = await run_in_threadpool(studio.render, studio.new_id("e"), 1, abc)
        return JSONResponse(tune, headers=headers)

    async def files(request):
        folder, name = request.path_params["folder"], request.path_params["name"]
        if not (_SAFE_NAME.match(folder) and _SAFE_NAME.match(name)) or ".." in folder + name:
            return _bad("no such file", 404)
        root = studio.out_dir.resolve()
        path = (root / folder / name).resolve()
        if root not in path.parents or not path.is_file():
            return _bad("no such file", 404)
        return FileResponse(path, headers=headers, filename=name if request.query_params.get("download") else None)

    routes = [Route("/", page), Route("/static/{name}", static), Route("/favicon.ico", static), Route("/api/generate", start, methods=["POST"]),
              Route("/api/jobs/{job}", status), Route("/api/render", render, methods=["POST"]),
              Route("/files/{folder}/{name}", files)]
    app = Starlette(routes=routes)
    app.state.studio = studio
    return app


def serve(model_path: Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          out_dir: Path | str = Path("outputs/serve")) -> None:
    """Run the page's server until Ctrl-C.

    Raises:
        MusicgenError: the web extra (starlette, uvicorn) is not installed,
            or the model cannot be loaded.
    """
    try:
        import uvicorn
    except ImportError:
        raise MusicgenError("musicgen serve needs the web extra: pip install 'musicgen[web]'") from None
    from musicgen.sample import load_model

    app = create_app(load_model(model_path), out_dir)
    uvicorn.run(app, host=host, port=port, log_level="warning")
