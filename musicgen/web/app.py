"""``musicgen serve``: a local page to compose, see, hear, edit and download tunes.

A small Starlette app. The page (``page.html``, ``page.js``, ``page.css``, in
this package, no internet needed) asks the server to generate tunes with the
same options as the CLI; each tune is rendered by musicgen itself into
``.abc``, ``.mid``, ``.wav`` and ``.svg`` (verovio sheet music) under the
output folder, and the page shows the sheet music as an image, plays the WAV
and links the downloads. Editing the ABC re-renders it.

Safety: user text only ever reaches the page as JSON put into the document
with ``textContent``; SVGs are shown through ``<img>`` (which never runs
scripts); a Content-Security-Policy allows only this server's own scripts.
Every request must name an allowed host (no DNS rebinding), and a POST must
be JSON from this server's own page (no cross-site requests: a foreign
``Origin`` is refused). Bodies are read only up to their bound; tune counts,
ABC lengths, queued jobs and disk used are bounded (see
:mod:`musicgen.web.studio`); only files the server wrote are served.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from musicgen.errors import MusicgenError
from musicgen.extras import need
from musicgen.limits import MAX_PRIME_CHARS
from musicgen.web.studio import DISK_LIMIT_BYTES, Busy, Studio

logger = logging.getLogger(__name__)

MAX_TUNES = 16
MAX_BODY_BYTES = 64_000
MAX_ABC_CHARS = 10_000
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
STATIC = {"page.js": "text/javascript", "page.css": "text/css", "favicon.svg": "image/svg+xml"}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class BadRequest(Exception):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def is_loopback(host: str) -> bool:
    """True for an address or name that only this computer can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(authority: str) -> str:
    """``example.org`` from ``example.org:8000``, ``::1`` from ``[::1]:8000``."""
    try:
        return (urlsplit(f"//{authority}").hostname or "").lower()
    except ValueError:
        return ""


def check_request_origin(headers, allowed_hosts: set[str], post: bool) -> None:
    """Refuse a foreign ``Host`` (DNS rebinding) and, for a POST, a foreign ``Origin`` or a body that is not JSON.

    Raises:
        BadRequest: 421 for the host, 403 for the origin, 415 for the type.
    """
    if _host_name(headers.get("host", "")) not in allowed_hosts:
        raise BadRequest("this server answers only to its own address", 421)
    if not post:
        return
    origin = headers.get("origin")
    if origin is not None and (
        urlsplit(origin).scheme not in ("http", "https") or _host_name(urlsplit(origin).netloc) not in allowed_hosts
    ):
        raise BadRequest("cross-site requests are refused", 403)
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadRequest("send the request as application/json", 415)


async def read_json_body(request) -> dict:
    """The request's JSON object, reading no more than :data:`MAX_BODY_BYTES` of it.

    Raises:
        BadRequest: 413 for a body over the bound (declared or sent), 400 for one that is not a JSON object.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(f"request too large (at most {MAX_BODY_BYTES:,} bytes)", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(f"request too large (at most {MAX_BODY_BYTES:,} bytes)", 413)
    try:
        data = json.loads(bytes(body) or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("request body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data


def _whole(data: dict, name: str, default, low: int, high: int):
    value = data.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be a whole number in range {low}..{high}")
    if not low <= value <= high:
        raise BadRequest(f"{name} must be in range {low}..{high}")
    return value


def _real(data: dict, name: str, default: float | None, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{name} must be a number in range {low:g}..{high:g}")
    if not (math.isfinite(value) and low <= value <= high):
        raise BadRequest(f"{name} must be in range {low:g}..{high:g}")
    return float(value)


def _text(data: dict, name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"{name} must be text of at most {limit:,} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{name} must be text (it holds a lone surrogate)") from None
    return value


def _flag(data: dict, name: str) -> bool:
    """A checkbox: absent, false or "off" is off; true or "on" (what a form sends) is on."""
    value = data.get(name)
    if value in (None, False, "", "off"):
        return False
    if value in (True, "on"):
        return True
    raise BadRequest(f"{name} must be true or false")


def generation_options(data: dict) -> tuple[int, dict]:
    """The tune count and :func:`musicgen.generate` options from a request, checked.

    ``chords`` (harmonise each tune, as ``generate --chords``) is the page's own option.

    Raises:
        BadRequest: a value of the wrong type or out of range.
        MusicgenError: a header value (key, meter...) the sampler refuses.
    """
    from musicgen.abc.codes import form_option
    from musicgen.sampling.sampler import header_fields

    count = _whole(data, "n", 1, 1, MAX_TUNES)
    prime = _text(data, "prime", MAX_PRIME_CHARS)
    kind = {"meter": _text(data, "meter", 20), "type": _text(data, "type", 40), "style": _text(data, "style", 40)}
    form = form_option(
        _text(data, "form", 20), _whole(data, "part_bars", None, 1, 64), any(kind.values()) or prime is not None
    )
    header = header_fields(
        key=_text(data, "key", 20),
        meter=kind["meter"],
        title=_text(data, "title", 200),
        tune_type=kind["type"],
        style=kind["style"],
        form=form,
    )
    options = {
        "seed": _whole(data, "seed", None, 0, 2**31 - 1),
        "prime": prime.replace("\\n", "\n") if prime else None,
        "header": header,
        "chords": _flag(data, "chords"),
    }
    temperature = _real(data, "temperature", None, 0.05, 3.0)
    if temperature is not None:  # else the model's recommended setting
        options["temperature"] = temperature
    return count, options


def create_app(
    model=None,
    out_dir: Path | str = Path("outputs/serve"),
    host: str = "127.0.0.1",
    disk_limit_bytes: int = DISK_LIMIT_BYTES,
):
    """The Starlette application; ``model`` None loads the bundled model.

    ``host`` is the address served: requests must name it or a loopback name.
    """
    need("starlette")
    from starlette.applications import Starlette
    from starlette.routing import Route

    from musicgen.model.lm import load_model

    studio = Studio(model if model is not None else load_model(), Path(out_dir), disk_limit_bytes)
    handlers = _Handlers(studio, {*LOOPBACK_NAMES, _host_name(host) or host.lower()})
    guarded = handlers.guarded
    routes = [
        Route("/", guarded(handlers.page)),
        Route("/static/{name}", guarded(handlers.static)),
        Route("/favicon.ico", guarded(handlers.static)),
        Route("/api/settings", guarded(handlers.settings)),
        Route("/api/generate", guarded(handlers.start), methods=["POST"]),
        Route("/api/jobs/{job}", guarded(handlers.status)),
        Route("/api/jobs/{job}/cancel", guarded(handlers.cancel), methods=["POST"]),
        Route("/api/render", guarded(handlers.render), methods=["POST"]),
        Route("/files/{folder}/{name}", guarded(handlers.files)),
    ]
    app = Starlette(routes=routes)
    app.state.studio = studio
    return app


class _Handlers:
    """The page's endpoints over one :class:`Studio`; every answer carries the same security headers."""

    HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    def __init__(self, studio: Studio, allowed: set[str]):
        self.studio, self.allowed = studio, allowed

    def json(self, data, status: int = 200):
        from starlette.responses import JSONResponse

        return JSONResponse(data, status_code=status, headers=self.HEADERS)

    def bad(self, message: str, status: int = 400):
        return self.json({"error": message}, status)

    def guarded(self, handler):
        """The handler behind the Host/Origin checks, with every user error as a JSON answer."""

        async def endpoint(request):
            try:
                check_request_origin(request.headers, self.allowed, request.method == "POST")
                return await handler(request)
            except BadRequest as error:
                return self.bad(str(error), error.status)
            except Busy as error:
                return self.bad(str(error), 429)
            except MusicgenError as error:
                return self.bad(str(error))

        return endpoint

    @staticmethod
    def asset(name: str) -> bytes:
        return (resources.files("musicgen.web") / name).read_bytes()

    async def page(self, request):
        from starlette.responses import Response

        return Response(self.asset("page.html"), media_type="text/html; charset=utf-8", headers=self.HEADERS)

    async def static(self, request):
        from starlette.responses import Response

        name = request.path_params.get("name", "favicon.svg")
        if name not in STATIC:
            return self.bad("no such file", 404)
        return Response(self.asset(name), media_type=STATIC[name], headers=self.HEADERS)

    async def settings(self, request):
        from musicgen.model.lm import recommended_config

        return self.json(recommended_config(self.studio.model).to_dict())

    async def start(self, request):
        count, options = generation_options(await read_json_body(request))
        return self.json(self.studio.submit(count, options).to_dict(), 202)

    async def status(self, request):
        job = self.studio.jobs.get(request.path_params["job"])
        return self.bad("no such job", 404) if job is None else self.json(job.to_dict())

    async def cancel(self, request):
        job = self.studio.cancel(request.path_params["job"])
        return self.bad("no such job", 404) if job is None else self.json(job.to_dict())

    async def render(self, request):
        from starlette.concurrency import run_in_threadpool

        abc = _text(await read_json_body(request), "abc", MAX_ABC_CHARS)
        if abc is None or not abc.strip():
            raise BadRequest(f"abc must be a tune of 1 to {MAX_ABC_CHARS:,} characters")
        return self.json(await run_in_threadpool(self.studio.render_edit, abc))

    async def files(self, request):
        from starlette.responses import FileResponse

        path = self.studio.served_path(request.path_params["folder"], request.path_params["name"])
        if path is None or not path.is_file():
            return self.bad("no such file", 404)
        name = request.path_params["name"]
        download = name if request.query_params.get("download") else None
        return FileResponse(path, headers=self.HEADERS, filename=download)


def serve(
    model_path: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    out_dir: Path | str = Path("outputs/serve"),
    disk_limit_bytes: int = DISK_LIMIT_BYTES,
) -> None:
    """Run the page's server until Ctrl-C.

    Raises:
        MusicgenError: the web extra (starlette, uvicorn) is not installed,
            or the model cannot be loaded.
    """
    uvicorn = need("uvicorn")
    from musicgen.model.lm import load_model

    app = create_app(load_model(model_path), out_dir, host, disk_limit_bytes)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:  # a job still sampling when the process exits would take the process down with it
        app.state.studio.close()
