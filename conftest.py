r"""Sandbox for the doctests in audemo/ and docs/.

The examples of the documentation pages (docs/**/*.rst)
must run as printed from a fresh folder:
each doctest of a page gets an empty temporary folder
as working directory,
its own model cache (``AUDEMO_CACHE_ROOT``)
and an empty namespace.
Imports and files a page needs must be made visibly on the page;
a page that relies on anything else fails here.

The docstrings in audemo/ (API documentation)
still get audemo and a few packages in their namespace,
``speech.wav`` and an ``audio/`` folder in their working directory.

"""

import os
import re

import numpy as np
import pytest

import audeer
import audformat
import audiofile
import audobject

import audemo


ROOT = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(ROOT, "docs")
DOCS_STATIC = os.path.join(DOCS, "_static")

# Names the docstrings in audemo/ use without importing them
MODULE_NAMESPACE = {
    "audemo": audemo,
    "audeer": audeer,
    "audformat": audformat,
    "audiofile": audiofile,
    "audobject": audobject,
    "np": np,
}


# Directives whose content the rendered page does not show
HIDDEN_DIRECTIVES = {
    "comment",
    "ifconfig",
    "only",
    "raw",
    "testcleanup",
    "testsetup",
}


def is_docs_page(item: pytest.Item) -> bool:
    r"""Whether a doctest item is a page of the documentation."""
    path = str(item.path)
    return path.endswith(".rst") and path.startswith(DOCS + os.sep)


def hidden_examples(text: str) -> list[int]:
    r"""Line numbers of examples the rendered page does not show.

    Doctest runs every ``>>>`` line of a page,
    also those in an RST comment
    or in a directive that is not rendered
    (``testsetup``, ``only``, ...).

    """
    hidden = []
    hiding = False
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"\.\.(\s|$)", line):
            directive = re.match(r"\.\.\s+([\w:-]+)::", line)
            if directive:
                hiding = directive.group(1) in HIDDEN_DIRECTIVES
            else:  # a comment, unless a link target or substitution
                hiding = not re.match(r"\.\.\s+[_|\[]", line)
        elif line and not line[0].isspace():
            hiding = False
        if hiding and line.lstrip().startswith(">>>"):
            hidden.append(number)
    return hidden


@pytest.fixture(autouse=True)
def doctest_sandbox(request, doctest_namespace, tmp_path, monkeypatch):
    r"""Run each doctest in an empty folder with its own cache."""
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    # the cache lies next to the working folder, not in it
    monkeypatch.setenv("AUDEMO_CACHE_ROOT", str(tmp_path / "audemo-cache"))
    monkeypatch.delenv("AUDEMO_OFFLINE", raising=False)
    work = audeer.mkdir(tmp_path / "work")
    monkeypatch.chdir(work)
    dtest = request.node.dtest
    if is_docs_page(request.node):
        # The rule of the pages: nothing but an empty folder and cache
        if doctest_namespace:
            pytest.fail(
                f"The examples of the pages must not get names "
                f"from doctest_namespace, got {sorted(doctest_namespace)}"
            )
        with open(request.node.path, encoding="utf-8") as fp:
            hidden = hidden_examples(fp.read())
        if hidden:
            pytest.fail(
                f"{request.node.path} has examples "
                f"the rendered page does not show, lines {hidden}"
            )
        first = dtest.examples[0].source if dtest.examples else ""
        if not first.startswith(("import ", "from ")):
            pytest.fail(
                f"The first example of {request.node.path} must show "
                f"the imports it needs, it starts with {first!r}"
            )
    else:
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
        audeer.mkdir(work, "audio")
        for name in os.listdir(DOCS_STATIC):
            if name.endswith(".wav"):
                os.symlink(os.path.join(DOCS_STATIC, name), os.path.join(work, name))
        dtest.globs.update(MODULE_NAMESPACE)
    yield
