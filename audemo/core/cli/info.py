r"""``audemo info``: a model's source, licence, fingerprint, inputs and outputs.

What is known without the network comes first:
the registry entry of a registered name
and whether the model is in the cache;
a model folder, a cached model
or one downloaded with ``--download``
is opened to show its fingerprint, inputs and outputs.

"""

from __future__ import annotations

import argparse

from audemo.core.cli import COMMANDS
from audemo.core.cli.common import add_model_arguments
from audemo.core.cli.common import legacy_model_cache_root
from audemo.core.cli.common import show_progress
from audemo.core.define import DEFAULT_MODEL
from audemo.core.model.registry import MODELS
from audemo.core.model.registry import cache_folder
from audemo.core.model.registry import resolve_cache_root


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r"""Add the command ``info``.

    Args:
        commands: sub-parsers of the ``audemo`` parser

    Returns:
        parser of the command

    """
    command = commands.add_parser(
        "info",
        help=COMMANDS["info"],
        description=(
            "Show what audemo knows about a model: for a registered name "
            "its URL, licence, description and published checksum, without "
            "downloading it; the folder, fingerprint (SHA256 of model.onnx), "
            "inputs and outputs of a model folder, or of a model in the cache "
            "(or with --download)."
        ),
    )
    add_model_arguments(command)
    command.add_argument(
        "--download",
        action="store_true",
        help="download a registered or URL model that is not in the cache",
    )
    return command


def run(args: argparse.Namespace) -> int:
    r"""Print what is known about the model.

    Args:
        args: parsed arguments

    Returns:
        exit code 0

    Examples:
        >>> from audemo.core.cli import main
        >>> root = audemo.testing.create_model("model")
        >>> main(["info", root])  # doctest: +ELLIPSIS
        model: .../model
        cache: ...
        folder: .../model
        fingerprint: ...
        0

    """
    # heavy (audonnx, onnx): only when run, not for --help
    from audemo.core.model.api import download_model
    from audemo.core.model.api import fingerprint
    from audemo.core.model.api import load_model
    from audemo.core.model.api import model_info

    model_cache_root = legacy_model_cache_root(args)
    name = args.model or DEFAULT_MODEL
    # what is known without the network: the registry and the cache
    info = model_info(args.model, cache_root=model_cache_root)
    _print_registry(info)
    print(f"cache: {resolve_cache_root(model_cache_root)}")
    if info["folder"] is None and not args.download:
        _print_not_cached(name, model_cache_root)
        return 0
    # a cached model is checked (and a damaged one reported) on the way
    root = download_model(
        args.model, cache_root=model_cache_root, verbose=show_progress()
    )
    model = load_model(root)
    print(f"folder: {root}")
    print(f"fingerprint: {fingerprint(root, cache_root=model_cache_root)}")
    if info["archive_sha256"]:
        print(f"archive sha256: {info['archive_sha256']}")
    print(model)
    return 0


def _print_registry(info: dict):
    r"""Model, URL, licence, description, and published checksum."""
    print(f"model: {info['model']}")
    for key in ("url", "license", "description"):
        if info[key] is not None:
            print(f"{key}: {info[key]}")
    if info["model"] in MODELS:  # not a folder named like it
        print(
            f"sha256: {info['pinned_sha256']}"
            if info["pinned_sha256"]
            else "sha256: not pinned (no published checksum; the download "
            "is checked by opening it and comparing its inputs and outputs)"
        )


def _print_not_cached(name: str, model_cache_root: str | None):
    r"""Where the model would be, and how to get it."""
    folder = cache_folder(name, cache_root=model_cache_root)
    cache = f" --model-cache-root {model_cache_root}" if model_cache_root else ""
    print(
        f"folder: not in the cache (would be {folder}); "
        f"`audemo download {name}{cache}` or "
        f"`audemo info {name}{cache} --download` gets it"
    )
