"""The server's state: one worker that samples queued jobs, and the files it may serve.

Work is bounded before it starts: at most :data:`MAX_QUEUED` jobs wait for
the one worker (a full queue is refused, not grown), at most
:data:`MAX_RENDERS` edits render at once, and the folders the server wrote
are removed oldest first once they pass :data:`MAX_FOLDERS` or the disk
limit. Only files the server wrote in this run are served.
"""

from __future__ import annotations

import itertools
import logging
import queue
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.errors import MusicgenError

logger = logging.getLogger(__name__)

#: Jobs waiting for the worker; finished jobs remembered; folders of results kept.
MAX_QUEUED = 8
MAX_JOBS_KEPT = 100
MAX_FOLDERS = 64
#: Renders of edited tunes at once, and disk used by results (about 11 MB a tune).
MAX_RENDERS = 2
DISK_LIMIT_BYTES = 512 * 1024 * 1024


class Busy(Exception):
    """The server has as much work as it takes: try again later."""


@dataclass
class Job:
    """One generation request: progress and the finished tunes."""

    id: str
    total: int
    phase: str = "queued"
    done: int = 0
    tunes: list[dict] = field(default_factory=list)
    error: str = ""
    finished: bool = False
    cancelled: bool = False

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "total": self.total,
            "phase": self.phase,
            "done": self.done,
            "tunes": self.tunes,
            "error": self.error,
            "finished": self.finished,
        }

    def finish(self, error: str = "") -> None:
        self.error = self.error or error
        self.phase, self.finished = "finished", True


class Studio:
    """The model, the output folder, the job queue and the served files (one instance per app)."""

    def __init__(self, model, out_dir: Path, disk_limit_bytes: int = DISK_LIMIT_BYTES):
        self.model, self.out_dir = model, Path(out_dir)
        self.disk_limit_bytes = disk_limit_bytes
        self.jobs: dict[str, Job] = {}
        self.folders: OrderedDict[str, dict[str, int]] = OrderedDict()  # folder -> file name -> bytes
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.queue: queue.Queue = queue.Queue(maxsize=MAX_QUEUED)
        self.renders = threading.BoundedSemaphore(MAX_RENDERS)
        self.worker: threading.Thread | None = None
        self.closing = False

    def new_id(self, prefix: str) -> str:
        with self.lock:
            return f"{prefix}{next(self.counter)}"

    # --- jobs -------------------------------------------------------------------------------

    def submit(self, total: int, options: dict) -> Job:
        """Queue a generation job.

        Raises:
            Busy: :data:`MAX_QUEUED` jobs are already waiting.
        """
        job = Job(self.new_id("g"), total)
        try:
            self.queue.put_nowait((job, options))
        except queue.Full:
            raise Busy(f"{MAX_QUEUED} jobs are already waiting; try again when one has finished") from None
        self._remember(job)
        with self.lock:
            if self.worker is None:
                self.worker = threading.Thread(target=self._work, name="musicgen-worker", daemon=True)
                self.worker.start()
        return job

    def cancel(self, job_id: str) -> Job | None:
        """Stop a job: a queued one never starts, a running one stops before its next tune."""
        job = self.jobs.get(job_id)
        if job is not None and not job.finished:
            job.cancelled = True
            if job.phase == "queued":
                job.finish("cancelled")
        return job

    def _remember(self, job: Job) -> None:
        with self.lock:
            self.jobs[job.id] = job
            for old in [k for k, j in self.jobs.items() if j.finished][: max(0, len(self.jobs) - MAX_JOBS_KEPT)]:
                del self.jobs[old]

    def _work(self) -> None:
        while not self.closing:
            try:
                job, options = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if not job.cancelled:
                self.run_job(job, options)

    def close(self, timeout_s: float = 60.0) -> None:
        """Cancel every job and wait for the worker to stop (a tune being sampled is finished first)."""
        self.closing = True
        for job in list(self.jobs.values()):
            self.cancel(job.id)
        if self.worker is not None:
            self.worker.join(timeout_s)

    def run_job(self, job: Job, options: dict) -> None:
        """Sample, then render each tune, updating ``job`` as it goes (in the worker thread)."""
        from musicgen.sampling.sampler import generate

        try:
            job.phase = "sampling"
            chords = options.get("chords", False)
            tunes = generate(self.model, n=job.total, **{k: v for k, v in options.items() if k != "chords"})
            if chords:
                tunes = [tune.harmonized() for tune in tunes]
            job.phase = "rendering"
            for tune in tunes:
                if job.cancelled:
                    job.finish("cancelled")
                    return
                job.tunes.append(self.render(job.id, tune.number, tune.abc))
                job.done += 1
        except MusicgenError as error:
            job.error = str(error)
        except Exception as error:  # a worker must always finish its job
            logger.exception("generation failed")
            job.error = f"generation failed: {error}"
        job.finish()

    # --- files ------------------------------------------------------------------------------

    def render_edit(self, abc: str) -> dict:
        """Render a user's edited tune in a folder of its own.

        Raises:
            Busy: :data:`MAX_RENDERS` edits are already rendering.
        """
        if not self.renders.acquire(blocking=False):
            raise Busy("the server is rendering other tunes; try again in a moment")
        try:
            return self.render(self.new_id("e"), 1, abc)
        finally:
            self.renders.release()

    def render(self, folder: str, number: int, abc: str) -> dict:
        """Write one tune's files under ``folder``; the tune's JSON for the page."""
        from musicgen.abc.tunebook import parse_tune
        from musicgen.files import atomic_write
        from musicgen.render.convert import render_tune
        from musicgen.render.output import slugify

        try:
            title = parse_tune(abc).title
        except MusicgenError:
            title = ""
        stem = f"{number:02d}-{slugify(title)}"
        result = render_tune(abc, ("abc", "mid", "wav", "svg"))
        files = {}
        for extension, data in result.files.items():
            name = f"{stem}.{extension}"
            atomic_write(self.out_dir / folder / name, lambda file, data=data: file.write(data))
            self._served(folder, name, len(data))
            files[extension] = f"/files/{folder}/{name}"
        self._trim(keep=folder)
        return {"number": number, "title": title, "abc": abc, "files": files, "error": result.error}

    def _served(self, folder: str, name: str, size: int) -> None:
        with self.lock:
            self.folders.setdefault(folder, {})[name] = size

    def _trim(self, keep: str) -> None:
        """Remove the oldest result folders while over the folder count or the disk limit."""
        with self.lock:
            while len(self.folders) > 1 and (
                len(self.folders) > MAX_FOLDERS or self.disk_used() > self.disk_limit_bytes
            ):
                oldest = next(k for k in self.folders if k != keep)
                del self.folders[oldest]
                shutil.rmtree(self.out_dir / oldest, ignore_errors=True)

    def disk_used(self) -> int:
        """Bytes of results the server has written and not yet removed."""
        return sum(sum(files.values()) for files in self.folders.values())

    def served_path(self, folder: str, name: str) -> Path | None:
        """The path of a file this server wrote, or None for any other name."""
        with self.lock:
            known = name in self.folders.get(folder, {})
        return self.out_dir / folder / name if known else None
