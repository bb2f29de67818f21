"""The hardening campaign: hostile files through the CLI, hostile requests to a live server.

Two parts, each under a memory cap (RLIMIT_AS on the process that does the
work, and on the server):

- ``files``: hostile ABC tunebooks and MIDI files, each through
  ``musicgen convert --to mid,wav,svg,png`` and (ABC) ``musicgen evaluate``,
  run in this process through click's test runner. A case fails if a command
  raises (a traceback), answers an error in more than one line, leaves a
  staging folder behind, or runs past ``--bound`` seconds.
- ``serve``: ``musicgen serve`` on 127.0.0.1 (a child process), sent hostile
  requests: JSON of every shape, edited tunes, foreign hosts and origins,
  wrong content types, huge and chunked bodies, odd paths. A case fails on a
  5xx answer, a dropped connection or a dead server; its stderr must hold no
  traceback.

It prints cases, failures, the slowest case, peak memory and peak disk:

    python fuzz/campaign.py files --cases 14000 --seed 1
    python fuzz/campaign.py serve --cases 6000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzz.strategies import demanding_tune, hostile_abc, hostile_midi  # noqa: E402
from musicgen.limits import child_limits  # noqa: E402


class Hang(Exception):
    pass


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# --- files ------------------------------------------------------------------------------------


def _check(result, stats: dict, label: str, examples: list) -> None:
    from click.exceptions import Exit

    if result.exception is not None and not isinstance(result.exception, (SystemExit, Exit)):
        stats["tracebacks"] += 1
        examples.append(f"TRACEBACK {label}: {type(result.exception).__name__}: {result.exception}"[:400])
    elif result.exit_code != 0:
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        if len(errors) != 1 or not result.output.strip().splitlines()[-1].startswith("Error:"):
            stats["bad_errors"] += 1
            examples.append(f"NOT ONE LINE {label}: {result.output[-300:]!r}")


def run_files(args) -> dict:
    from click.testing import CliRunner

    from musicgen.cli.main import main

    runner = CliRunner()
    work = Path(tempfile.mkdtemp(prefix="musicgen-campaign-"))
    stats = {
        "cases": 0,
        "tracebacks": 0,
        "bad_errors": 0,
        "leftovers": 0,
        "hangs": 0,
        "slowest": 0.0,
        "peak_disk": 0,
        "abc": 0,
        "mid": 0,
    }
    examples: list[str] = []

    def on_alarm(signum, frame):
        raise Hang

    signal.signal(signal.SIGALRM, on_alarm)
    case_kind = st.one_of(
        hostile_abc().map(lambda t: ("abc", t)),
        demanding_tune().map(lambda t: ("abc", t)),
        hostile_midi().map(lambda b: ("mid", b)),
    )

    @seed(args.seed)
    @settings(
        max_examples=args.cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case_kind)
    def case(kind_and_data):
        kind, data = kind_and_data
        stats["cases"] += 1
        stats[kind] += 1
        source = work / f"case.{kind}"
        if kind == "abc":
            source.write_bytes(data.encode("utf-8", "surrogatepass"))
        else:
            source.write_bytes(data)
        out = work / "out"
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, args.bound)
        try:
            formats = "mid,wav,svg,png" if stats["cases"] % args.sheet_every == 0 else "mid,wav"
            _check(
                runner.invoke(main, ["convert", str(source), "--to", formats, "--out", str(out)]),
                stats,
                f"convert {data[:200]!r}",
                examples,
            )
            if kind == "abc":
                _check(
                    runner.invoke(main, ["evaluate", str(source), "--no-novelty"]),
                    stats,
                    f"evaluate {data[:200]!r}",
                    examples,
                )
        except Hang:
            stats["hangs"] += 1
            examples.append(f"HANG: {data[:300]!r}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        stats["slowest"] = max(stats["slowest"], time.perf_counter() - started)
        stats["peak_disk"] = max(stats["peak_disk"], folder_bytes(work))
        if list(work.glob(".*partial*")) or list(out.glob(".*partial*")):
            stats["leftovers"] += 1
            examples.append(f"LEFTOVER after {data[:200]!r}")
        shutil.rmtree(out, ignore_errors=True)
        for wav in work.glob("*.wav"):  # a MIDI source's WAV lands beside it
            wav.unlink()
        if stats["cases"] % 1000 == 0:
            print(f"  {stats['cases']:,} cases ...", flush=True)

    case()
    shutil.rmtree(work, ignore_errors=True)
    stats["examples"] = examples[:10]
    stats["failures"] = stats["tracebacks"] + stats["bad_errors"] + stats["leftovers"] + stats["hangs"]
    return stats


# --- serve ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port: int, raw: bytes, timeout: float) -> int:
    """Send one raw HTTP request; the status code, or 0 if the connection dropped."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            connection.sendall(raw)
            reply = connection.recv(64)
        except (BrokenPipeError, ConnectionResetError):
            return 0
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def _json_value(rng: random.Random, depth: int = 0):
    choices = [
        None,
        True,
        False,
        0,
        -1,
        1,
        16,
        17,
        2**31,
        2**64,
        0.5,
        -0.0,
        1e308,
        "",
        "1_6",
        "x" * rng.randint(0, 3000),
        "\\ud800",
        "Dmix",
        "6/8",
        "0/0",
        "7/0",
        "H",
        "C|",
        "reel",
        "\u0422\u0430\u043d\u0435\u0446",
        "X:1\nK:C\nCDEF|",
        "X:1\nL:1\nQ:1/4=4\nK:C\n" + "z64|" * 300,
    ]
    if depth < 3 and rng.random() < 0.15:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 3 and rng.random() < 0.1:
        return {rng.choice(["n", "abc", "key"]): _json_value(rng, depth + 1)}
    return rng.choice(choices)


def _hostile_request(rng: random.Random, port: int, abc_cases) -> bytes:
    host = rng.choice([f"127.0.0.1:{port}"] * 6 + ["evil.example", f"localhost:{port}", "", "[::1]", "a" * 300])
    kind = rng.choice(["generate", "render", "render", "json", "get", "origin", "type", "huge", "path", "cancel"])
    path, content_type, extra, body = "/api/render", "application/json", "", b""
    if kind == "generate":
        path = "/api/generate"
        fields = {
            k: _json_value(rng)
            for k in rng.sample(
                ["n", "seed", "temperature", "key", "meter", "title", "type", "prime"], rng.randint(0, 5)
            )
        }
        if rng.random() < 0.3:  # a valid small request now and then: real work for the queue
            fields = {"n": 1, "seed": rng.randint(0, 99), "key": "G"}
        body = json.dumps(fields).encode()
    elif kind == "render":
        body = json.dumps({"abc": next(abc_cases)}).encode("utf-8", "surrogatepass")
    elif kind == "json":
        path = rng.choice(["/api/generate", "/api/render"])
        body = rng.choice(
            [
                b"[" * 20000,
                b'{"n": 1e999}',
                b"\xff\xfe",
                b'{"n": ' + b"9" * 5000 + b"}",
                b"{}",
                b'{"abc": "\\ud800"}',
                b"null",
                b'"x"',
                b'{"a":1}{',
            ]
        )
    elif kind == "origin":
        extra = f"Origin: {rng.choice(['http://evil.example', 'null', 'file://', 'http://127.0.0.1.evil'])}\r\n"
        body = json.dumps({"abc": "X:1\nK:C\nCDEF|"}).encode()
    elif kind == "type":
        content_type = rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""])
        body = b"abc=X%3A1"
    elif kind == "huge":
        body = b"x" * rng.choice([65_000, 70_000, 1_000_000])
    elif kind == "cancel":
        path = f"/api/jobs/g{rng.randint(0, 50)}/cancel"
        body = b"{}"
    if kind in ("get", "path"):
        path = rng.choice(
            [
                "/",
                "/static/page.js",
                "/static/../app.py",
                "/files/g1/01-x.wav",
                "/files/../../etc/passwd",
                "/api/jobs/g1",
                "/api/jobs/" + "9" * 500,
                "/favicon.ico",
                "/%00",
                "/files/e1/" + "a" * 300,
            ]
        )
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{extra}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def run_serve(args) -> dict:
    rng = random.Random(args.seed)
    port, out = _free_port(), Path(tempfile.mkdtemp(prefix="musicgen-serve-campaign-"))
    log = out.parent / f"{out.name}.log"
    cap = args.memory_cap_mb * 1024 * 1024
    with open(log, "wb") as stderr:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "musicgen",
                "serve",
                "--port",
                str(port),
                "--out",
                str(out / "serve"),
                "--disk-limit",
                "64",
            ],
            stdout=stderr,
            stderr=stderr,
            preexec_fn=child_limits(cap, 10**6),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        abc_cases = iter(_abc_stream(args.seed))
        stats = {"cases": 0, "5xx": 0, "dropped": 0, "slowest": 0.0, "statuses": {}, "peak_disk": 0}
        examples: list[str] = []
        started = time.monotonic()
        for number in range(args.cases):
            if server.poll() is not None or time.monotonic() - started > args.seconds:
                break
            raw = _hostile_request(rng, port, abc_cases)
            begun = time.perf_counter()
            try:
                status = _request(port, raw, timeout=args.bound)
            except OSError:
                status = 0
            stats["slowest"] = max(stats["slowest"], time.perf_counter() - begun)
            stats["cases"] += 1
            stats["statuses"][status] = stats["statuses"].get(status, 0) + 1
            if status >= 500 or status == 0:
                stats["5xx" if status else "dropped"] += 1
                examples.append(f"{status}: {raw[:300]!r}")
            if number % 100 == 0:
                stats["peak_disk"] = max(stats["peak_disk"], folder_bytes(out))
            if number % 1000 == 0:
                print(f"  {number:,} requests ...", flush=True)
        alive = server.poll() is None
        peak_kb = _peak_rss_kb(server.pid)
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=90)
        except subprocess.TimeoutExpired:
            server.kill()
    text = log.read_text(errors="replace")
    stats.update(
        server_alive=alive,
        server_exit=server.returncode,
        server_peak_mb=peak_kb / 1024,
        tracebacks=text.count("Traceback"),
        examples=examples[:10],
        log_tail=text[-500:],
    )
    stats["failures"] = stats["5xx"] + stats["dropped"] + stats["tracebacks"] + (not alive)
    shutil.rmtree(out, ignore_errors=True)
    log.unlink()
    return stats


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _abc_stream(seed_value: int):
    """Hostile tunes drawn from the ABC strategies, without Hypothesis's test runner."""
    strategy = st.one_of(hostile_abc(), demanding_tune())
    random.seed(seed_value)  # example() draws from the global random state
    while True:
        yield strategy.example()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["files", "serve"])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bound", type=float, default=60.0, help="seconds a case may take")
    parser.add_argument("--memory-cap-mb", type=int, default=4096, help="address space of the working process")
    parser.add_argument("--sheet-every", type=int, default=5, help="files: engrave (svg, png) every Nth case")
    parser.add_argument("--seconds", type=float, default=3600, help="serve: stop sending after this long")
    args = parser.parse_args()
    if args.part == "files":
        cap = args.memory_cap_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import warnings

    warnings.filterwarnings("ignore")
    began = time.perf_counter()
    stats = run_files(args) if args.part == "files" else run_serve(args)
    stats["seconds"] = round(time.perf_counter() - began)
    stats["peak_mb_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats["peak_mb_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(stats, indent=1, default=str))
    sys.exit(1 if stats["failures"] else 0)


if __name__ == "__main__":
    main()
