r"""audformat databases of the synthesized speech files, for tests."""

import os
import shutil

import audeer
import audformat


def speech_database(speech_files: list[str], root: str) -> str:
    r"""A database in ``root`` with the speech files in ``audio/``.

    Its table ``files`` lists them;
    it has no labels.

    Returns:
        the database folder

    """
    root = audeer.mkdir(root)
    audeer.mkdir(root, "audio")
    files = []
    for file in speech_files:
        name = f"audio/{os.path.basename(file)}"
        shutil.copy(file, os.path.join(root, name))
        files.append(name)
    db = audformat.Database("outputs-test", source="espeak-ng", usage="unrestricted")
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db.save(root)
    return root
