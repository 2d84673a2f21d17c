r"""Inputs of the command line: audio files, folders and audformat databases.

Each input becomes an audformat filewise index
with the root its paths are relative to
(:func:`input_to_index`);
several inputs become one index of absolute paths
(:func:`merge_inputs`).

"""

from __future__ import annotations

from collections.abc import Sequence
import os

import pandas as pd

import audeer
import audformat

from audemo.core.database import load_database
from audemo.core.define import AUDIO_EXTENSIONS


def input_to_index(path: str, errors: str = "raise") -> tuple[pd.Index, str | None]:
    r"""The files of an input as an index and the root they are relative to.

    Args:
        path: audio file,
            folder (searched recursively for files
            ending in one of :data:`audemo.core.define.AUDIO_EXTENSIONS`),
            or folder of an audformat database
            (its files, loaded with
            :func:`~audemo.core.database.load_database`)
        errors: ``"coerce"`` returns a path that does not exist
            as a file, to fail like any other file;
            ``"raise"`` refuses it

    Returns:
        filewise index,
        and the folder its paths are relative to
        (``None`` for a file)

    Raises:
        FileNotFoundError: if ``path`` does not exist
            and ``errors`` is ``"raise"``,
            or it is a folder without audio files

    Examples:
        >>> import shutil
        >>> _ = shutil.copy("speech.wav", audeer.mkdir("corpus/speaker-1"))
        >>> index, root = input_to_index("corpus")
        >>> index.tolist(), root == audeer.path("corpus")
        (['speaker-1/speech.wav'], True)
        >>> input_to_index("speech.wav")
        (Index(['speech.wav'], dtype='string', name='file'), None)

    """
    if not os.path.exists(path):
        if errors == "coerce":
            # reported with a row of NaN like any other failing file
            return audformat.filewise_index([path]), None
        raise FileNotFoundError(f"Input '{path}' does not exist.")
    if not os.path.isdir(path):
        return audformat.filewise_index([path]), None
    if os.path.exists(os.path.join(path, "db.yaml")):
        return load_database(path).files, audeer.path(path)
    files = sorted(
        file
        for file in audeer.list_file_names(path, recursive=True, basenames=True)
        if audeer.file_extension(file).lower() in AUDIO_EXTENSIONS
    )
    if not files:
        raise FileNotFoundError(
            f"Folder '{path}' holds no audio files ({', '.join(AUDIO_EXTENSIONS)})."
        )
    return audformat.filewise_index(files), audeer.path(path)


def merge_inputs(
    inputs: Sequence[tuple[pd.Index, str | None]],
) -> tuple[pd.Index, str | None]:
    r"""Inputs as one index.

    One input keeps its paths and root;
    several become one index of absolute paths
    (files named twice appear once),
    so that files with the same relative path stay apart.

    Args:
        inputs: indices and roots as :func:`input_to_index` returns them

    Returns:
        filewise index and the root its paths are relative to

    Examples:
        >>> import shutil
        >>> _ = shutil.copy("speech.wav", "audio")
        >>> merge_inputs([input_to_index("audio")])[0].tolist()
        ['speech.wav']
        >>> index, root = merge_inputs(
        ...     [input_to_index("audio"), input_to_index("speech.wav")]
        ... )
        >>> [os.path.relpath(file) for file in index], root
        (['audio/speech.wav', 'speech.wav'], None)

    """
    if len(inputs) == 1:
        return inputs[0]
    return audformat.utils.union([absolute_files(*job) for job in inputs]), None


def absolute_files(index: pd.Index, root: str | None) -> pd.Index:
    r"""Paths of an index below ``root`` as absolute paths.

    Args:
        index: filewise index
        root: folder the paths are relative to, or ``None``

    Returns:
        the index with paths below ``root``,
        or as it is without ``root``

    Examples:
        >>> index = audformat.filewise_index(["a.wav"])
        >>> absolute_files(index, "/data").tolist()
        ['/data/a.wav']

    """
    return audformat.utils.expand_file_path(index, root) if root else index
