"""``musicgen serve``: the local web page."""

from __future__ import annotations

from pathlib import Path

import click

from musicgen.cli.util import user_errors as _user_errors


@click.command()
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Checkpoint or run folder [default: the bundled model].",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the default only accepts this computer. Requests must name this "
    "address or a loopback name in their Host header.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("outputs/serve"),
    show_default=True,
    help="Folder for the tunes the page makes (only files the server wrote are served).",
)
@click.option(
    "--disk-limit",
    "disk_limit_mb",
    type=click.IntRange(16, 1_000_000),
    default=512,
    show_default=True,
    help="MB of results kept under --out; the oldest results are removed past it (a tune is about 11 MB).",
)
@_user_errors
def serve(model_path, host, port, out_dir, disk_limit_mb) -> None:
    """Open a local web page to compose, see, hear, edit and download tunes.

    The page generates tunes with the same options as 'musicgen generate',
    shows each as sheet music, plays its audio, re-renders it when you edit
    its ABC, and offers .abc, .mid, .wav and .svg downloads. It works
    offline. Needs the web extra: pip install 'musicgen[web]'.

    \b
    Bounds: 16 tunes a request, 8 requests waiting (then 429), 2 edits
    rendering at once, 64 KB request bodies, --disk-limit of results.
    """
    from musicgen.web.app import is_loopback
    from musicgen.web.app import serve as run_server

    if not is_loopback(host):
        click.echo(
            f"Warning: --host {host} lets other computers on the network use this page; it has no "
            "passwords. Use the default 127.0.0.1 unless you mean that.",
            err=True,
        )
    click.echo(f"musicgen page on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(model_path, host, port, out_dir, disk_limit_mb * 1024 * 1024)
