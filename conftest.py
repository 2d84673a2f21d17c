r"""Namespace and sandbox for the doctests in audemo/ and docs/."""

import os

import numpy as np
import pytest

import audeer
import audformat
import audiofile
import audobject

import audemo


DOCS_STATIC = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "docs", "_static"
)


@pytest.fixture(autouse=True)
def doctest_sandbox(request, doctest_namespace, tmp_path, monkeypatch):
    r"""Run each doctest in an empty folder with its own cache."""
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    monkeypatch.setenv("AUDEMO_CACHE_ROOT", str(tmp_path / "audemo-cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("AUDEMO_OFFLINE", raising=False)
    monkeypatch.chdir(tmp_path)
    audeer.mkdir(tmp_path / "audio")
    for name in os.listdir(DOCS_STATIC):
        if name.endswith(".wav"):
            os.symlink(os.path.join(DOCS_STATIC, name), tmp_path / name)
    doctest_namespace.update(
        audemo=audemo,
        audeer=audeer,
        audformat=audformat,
        audiofile=audiofile,
        audobject=audobject,
        np=np,
    )
    yield
