r"""What the interfaces are given to process: indices, file lists, folders.

Checks that refuse a wrong input before anything runs,
saying what to pass instead,
and the hints and labels that describe an input.

"""

from __future__ import annotations

import collections
from collections.abc import Sequence
import os

import pandas as pd

import audeer
import audformat

from audemo.core.define import AUDIO_EXTENSIONS
from audemo.core.utils import count


def check_index(index: object):
    r"""Refuse what is not an audformat index, saying what to pass instead.

    Args:
        index: what was passed as ``index``

    Raises:
        TypeError: if ``index`` is not a pandas index
        ValueError: if ``index`` is not conform to audformat

    Examples:
        >>> check_index(audformat.filewise_index(["a.wav"]))
        >>> check_index(["a.wav"])
        Traceback (most recent call last):
        ...
        TypeError: index must be an audformat index, not a list: pass audformat.filewise_index(files), or use process_files(files) for a list of files.

    """  # noqa: E501
    use = (
        "pass audformat.filewise_index(files), "
        "or use process_files(files) for a list of files"
    )
    if isinstance(index, (pd.Series, pd.DataFrame)):
        raise TypeError(
            f"index must be an audformat index, not a {type(index).__name__}: "
            f"pass its .index (e.g. db['files'].get().index) or db.files."
        )
    if not isinstance(index, pd.Index):
        article = "an" if type(index).__name__[0] in "aeiou" else "a"
        raise TypeError(
            f"index must be an audformat index, "
            f"not {article} {type(index).__name__}: {use}."
        )
    names = list(index.names)
    if names not in (["file"], ["file", "start", "end"]):
        raise ValueError(
            f"index must be an audformat index with the level 'file' (filewise) "
            f"or 'file', 'start', 'end' (segmented), "
            f"not a pandas index with the levels {names}: {use}."
        )
    audformat.assert_index(index)


def is_whole_files(index: pd.MultiIndex) -> bool:
    r"""Whether every segment of a segmented index covers its whole file.

    Args:
        index: segmented index

    Returns:
        ``True`` if every start is 0 and every end ``NaT``

    Examples:
        >>> is_whole_files(audformat.segmented_index(["a.wav"], [0], [None]))
        True

    """
    starts = index.get_level_values("start")
    ends = index.get_level_values("end")
    return bool(((starts == pd.Timedelta(0)) & ends.isna()).all())


def progress_description(index: pd.Index) -> str:
    r"""Progress bar label: "Process N files" or "Process N segments".

    Rows that cover whole files
    (a filewise index, or start 0 and end ``NaT``)
    are files, other rows are segments.

    Args:
        index: audformat index

    Returns:
        label

    Examples:
        >>> progress_description(audformat.filewise_index(["a.wav", "b.wav"]))
        'Process 2 files'
        >>> progress_description(audformat.segmented_index(["a.wav"], [0.5], [1.0]))
        'Process 1 segment'

    """
    if len(index.names) == 1 or is_whole_files(index):
        return f"Process {count(len(index), 'file')}"
    return f"Process {count(len(index), 'segment')}"


def check_relative_files(files: Sequence[str], root: str | None, errors: str) -> str:
    r"""Hint for relative paths that do not exist without ``root``.

    With ``errors="raise"`` the first missing file
    is an error before anything is processed.

    Args:
        files: distinct files of the input
        root: root folder of relative paths
        errors: ``"raise"`` or ``"coerce"``

    Returns:
        the hint, empty if all files exist or ``root`` is given

    Raises:
        FileNotFoundError: if a relative file does not exist
            and ``errors`` is ``"raise"``

    Examples:
        >>> check_relative_files(["speech.wav"], None, "raise")
        ''

    """
    if root is not None:
        return ""
    missing = [
        file
        for file in files
        if isinstance(file, str)
        and not os.path.isabs(file)
        and not os.path.exists(file)
    ]
    if not missing:
        return ""
    hint = (
        f"{count(len(missing), 'relative file path')} "
        f"{'does' if len(missing) == 1 else 'do'} not exist "
        f"in the current folder '{os.getcwd()}' and no root was given: "
        f"pass the folder the paths are relative to as root, "
        f"for an audformat database root=db.root "
        f"(process_index(db.files, root=db.root))."
    )
    if errors == "raise":
        raise FileNotFoundError(f"Audio file '{missing[0]}' does not exist. {hint}")
    return hint


def files_index(
    files: Sequence[str],
    starts: object = None,
    ends: object = None,
) -> pd.Index:
    r"""The index of ``process_files(files, starts=starts, ends=ends)``.

    Args:
        files: file paths
        starts: start per file, a scalar for all files, or ``None``
        ends: end per file, a scalar for all files, or ``None``

    Returns:
        filewise index without starts and ends, else segmented index

    Examples:
        >>> files_index(["a.wav"], starts=0.5)
        MultiIndex([('a.wav', '0 days 00:00:00.500000', NaT)],
                   names=['file', 'start', 'end'])

    """
    if starts is None and ends is None:
        return audformat.filewise_index(files)
    return audformat.segmented_index(
        files,
        _broadcast(starts, len(files), 0.0),
        _broadcast(ends, len(files), pd.NaT),
    )


def empty_folder_hint(root: str, filetype: str) -> str:
    r"""Why a folder has no files of ``filetype``, and what to do.

    Args:
        root: absolute folder
        filetype: extension that was looked for

    Returns:
        the hint, empty if the folder holds nothing to suggest

    Examples:
        >>> empty_folder_hint(audeer.path("."), "flac")
        "'...' holds no .flac files (filetype='flac', case-sensitive) but 1 file .wav: pass filetype='wav' to process_folder()."

    """  # noqa: E501
    if os.path.exists(os.path.join(root, "db.yaml")):
        return (
            f"'{root}' holds an audformat database, not audio files to list: "
            f"load it with db = audformat.Database.load({root!r}) and process "
            f"interface.process_index(db.files, root=db.root)."
        )
    others, nested = _audio_files(root, filetype)
    if not others and not nested:
        return ""
    found = ", ".join(
        f"{count(number, 'file')} .{extension}"
        for extension, number in others.most_common()
    )
    parts = [f"'{root}' holds no .{filetype} files (filetype={filetype!r}"]
    parts[0] += ", case-sensitive)"
    if found:
        suggestion = others.most_common(1)[0][0]
        parts.append(f"but {found}: pass filetype={suggestion!r} to process_folder()")
    if nested:
        parts.append(
            f"{'but' if not found else 'and'} {count(nested, 'file')} "
            f".{filetype} in sub-folders, which process_folder() does not search: "
            f"list them (e.g. audeer.list_file_names(root, filetype="
            f"{filetype!r}, recursive=True)) and use process_files()"
        )
    return " ".join(parts) + "."


def skipped_files_hint(root: str, filetype: str) -> str:
    r"""The audio files that a folder search for ``filetype`` leaves out.

    :meth:`audemo.Emotion.process_folder`
    lists only the files of ``filetype`` in the folder itself
    (case-sensitive);
    ``audemo predict FOLDER`` finds every audio type
    (:data:`audemo.core.define.AUDIO_EXTENSIONS`)
    in the folder and below.

    Args:
        root: absolute folder
        filetype: extension that was looked for

    Returns:
        what was skipped and how to process it,
        empty if nothing was skipped

    Examples:
        >>> import shutil
        >>> _ = shutil.copy("speech.wav", audeer.mkdir("calls/2024"))
        >>> _ = shutil.copy("speech.wav", "calls/first.wav")
        >>> skipped_files_hint(audeer.path("calls"), "wav")
        "process_folder() processed the .wav files of '...calls' only (filetype='wav', case-sensitive, not in sub-folders) and skipped 1 file .wav in sub-folders: list them (e.g. audeer.list_file_names(root, filetype='wav', recursive=True)) and use process_files()."
        >>> skipped_files_hint(audeer.path("calls/2024"), "wav")
        ''

    """  # noqa: E501
    others, nested = _audio_files(root, filetype)
    others.pop(filetype, None)
    skipped = [
        f"{count(number, 'file')} .{extension}"
        for extension, number in others.most_common()
    ]
    if nested:
        skipped.append(f"{count(nested, 'file')} .{filetype} in sub-folders")
    if not skipped:
        return ""
    if others:
        how = (
            f"process them with another filetype "
            f"(e.g. filetype={others.most_common(1)[0][0]!r})"
        )
    else:
        how = (
            f"list them (e.g. audeer.list_file_names(root, filetype="
            f"{filetype!r}, recursive=True)) and use process_files()"
        )
    return (
        f"process_folder() processed the .{filetype} files of '{root}' only "
        f"(filetype={filetype!r}, case-sensitive, not in sub-folders) "
        f"and skipped {', '.join(skipped)}: {how}."
    )


def _audio_files(root: str, filetype: str) -> tuple[collections.Counter, int]:
    r"""Audio files in ``root`` per extension, ``filetype`` files below it."""
    others = collections.Counter()
    nested = 0
    for folder, _, names in os.walk(root):
        for name in names:
            extension = audeer.file_extension(name)
            if folder == root:
                if extension.lower() in AUDIO_EXTENSIONS:
                    others[extension] += 1
            elif extension == filetype:
                nested += 1
    return others, nested


def _broadcast(values, length: int, default) -> list:
    if values is None:
        return [default] * length
    if isinstance(values, (str, int, float, pd.Timedelta)):
        return [values] * length
    return list(values)
