r"""``audemo serve``: emotion over HTTP and WebSocket, and a live web page.

Runs :func:`audemo.core.live.server.serve`
(needs ``pip install 'audemo[serve]'``).

"""

from __future__ import annotations

import argparse

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import add_model_cache_root
from audemo.core.cli.common import add_model_option
from audemo.core.cli.common import add_precision_option
from audemo.core.live.server import MAX_BYTES
from audemo.core.live.server import MAX_SECONDS
from audemo.core.live.server import check_host
from audemo.core.live.server import limits
from audemo.core.live.server import serve


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``serve``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "serve",
        help=COMMANDS["serve"],
        description=(
            "Serve the model: POST /predict (an audio file as body, JSON rows "
            "out), WS /stream?sampling_rate=16000&win_dur=2&hop_dur=0.5 "
            "(float32 little-endian PCM frames in, one JSON row per window "
            "out) and GET / (a page that streams the microphone and charts "
            "files). Only requests for the address it listens on, and from its "
            "own page or an --allow-origin, are answered. "
            "Needs pip install 'audemo[serve]'. The default model is licensed "
            "CC BY-NC-SA 4.0: non-commercial use only."
        ),
        epilog="Limits of each request: " + limits().replace("\n", " "),
    )
    command.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; others need --token)",
    )
    command.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: 8000)"
    )
    command.add_argument(
        "--token",
        default=None,
        help=(
            "secret every request must send (header 'Authorization: Bearer T' "
            "or ?token=T); required unless --host is a loopback address"
        ),
    )
    command.add_argument(
        "--max-bytes",
        type=int,
        default=MAX_BYTES,
        metavar="N",
        help=f"largest upload of POST /predict in bytes (default: {MAX_BYTES})",
    )
    command.add_argument(
        "--max-seconds",
        type=float,
        default=MAX_SECONDS,
        metavar="S",
        help=(
            "longest audio of POST /predict in seconds "
            f"(default: {MAX_SECONDS:g}; compressed files hold more audio "
            "than their bytes suggest)"
        ),
    )
    command.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help=(
            "let web pages from ORIGIN (e.g. https://example.org) use the "
            "server besides its own page; repeat for more"
        ),
    )
    command.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "answer requests for host NAME too (e.g. of a reverse proxy); "
            "others than --host are refused (DNS rebinding); repeat for more"
        ),
    )
    add_model_option(command)
    add_model_cache_root(command, legacy=False)
    add_precision_option(command)
    return command


def run(args: argparse.Namespace) -> int:
    r"""Run the server until Ctrl-C.

    Args:
        args: parsed arguments

    Returns:
        exit code

    Raises:
        ValueError: if ``--host`` is reachable from other machines
            and ``--token`` is missing, or ``--port`` is in use

    """
    check_host(args.host, args.token)
    serve(
        args.model,
        host=args.host,
        port=args.port,
        precision=args.precision,
        token=args.token,
        model_cache_root=args.model_cache_root,
        max_bytes=args.max_bytes,
        max_seconds=args.max_seconds,
        allow_origins=args.allow_origin,
        allow_hosts=args.allow_host,
    )
    return 0
