r"""Sphinx configuration of the audemo documentation.

Build with::

    python -m sphinx -W -b html docs docs/_build/html

"""

from datetime import date
import os
import shutil
import sys
import tomllib

from docutils import nodes
import numpy as np
from sphinx import addnodes
from sphinx.pycode import ModuleAnalyzer

import audeer

import audemo


with open(audeer.path(os.path.dirname(__file__), "..", "pyproject.toml"), "rb") as fp:
    config = tomllib.load(fp)


# Project -----------------------------------------------------------------
author = ", ".join(author["name"] for author in config["project"]["authors"])
first_year = 2026
copyright = "-".join(sorted({str(first_year), str(date.today().year)})) + f" {author}"
project = config["project"]["name"]
version = audemo.__version__
release = version
title = "Documentation"


# General -----------------------------------------------------------------
master_doc = "index"
source_suffix = {
    ".rst": "restructuredtext",
    ".md": "markdown",  # changelog.md and contributing.md
}
exclude_patterns = [
    "_build",
    "api-src",
    "build",
    "Thumbs.db",
    ".DS_Store",
]
templates_path = ["_templates"]
pygments_style = None
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # support for Google-style docstrings
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "sphinx.ext.autosectionlabel",
    "sphinx_autodoc_typehints",
    "myst_parser",  # renders CHANGELOG.md and CONTRIBUTING.md
]
# No sphinx.ext.intersphinx:
# it needs network access
# and fails a build with -W when offline.
# References to other packages (audinterface, audonnx, ...)
# are therefore rendered as plain text.

# Every reference must resolve:
# with -W a broken link fails the build
nitpicky = True

# Without intersphinx (see above)
# references to other packages cannot be resolved:
# they are rendered as plain text, not reported.
# References to audemo itself are all checked.
nitpick_ignore_regex = [
    # standard library
    (r"py:.*", r"(collections\.abc|datetime|io|typing)\..+"),
    # scientific Python;
    # pd.: docstrings of methods inherited from audinterface
    (r"py:.*", r"(dask|matplotlib|numpy|pandas|pd|pyannote|sklearn|yaml)(\..+)?"),
    # audEERING's toolkit
    (
        r"py:.*",
        r"(audeer|audformat|audinterface|audmetric|audobject|audonnx|audresample)"
        r"(\..+)?",
    ),
]


# Reference with :ref:`usage:Sliding windows`
autosectionlabel_prefix_document = True
autosectionlabel_maxdepth = 2

autosummary_generate = True

# Disable auto-generation of TOC entries in the API
# https://github.com/sphinx-doc/sphinx/issues/6316
toc_object_entries = False

# HTML --------------------------------------------------------------------
html_theme = "sphinx_audeering_theme"
html_theme_options = {
    "display_version": True,
    "logo_only": False,
    "footer_links": False,
}
html_context = {
    "display_github": True,
    "github_user": "audemo",
    "github_repo": "audemo",
    "github_version": "main",
    "conf_py_path": "/docs/",
}
html_title = title
html_static_path = ["_static"]


# Copy API (sub-)module RST files to docs/api/ folder ---------------------
# docs/api/ is ignored by git;
# autosummary writes the pages of single objects there as well
_docs_root = os.path.dirname(os.path.abspath(__file__))
_api_root = os.path.join(_docs_root, "api")
audeer.rmdir(_api_root)
audeer.mkdir(_api_root)
for _src in audeer.list_file_names(os.path.join(_docs_root, "api-src"), filetype="rst"):
    shutil.copyfile(_src, os.path.join(_api_root, os.path.basename(_src)))


# Pictures of results -----------------------------------------------------
# The pages show a timeline and a circumplex made by audemo.plot.
# They are drawn at every build, offline,
# with the test model of audemo.testing
# (the real model would need a download of 650 MB):
# their numbers are NOT emotion predictions,
# which the captions say.
# They are written to docs/_generated/, which is ignored by git.
_generated_root = os.path.join(_docs_root, "_generated")


def make_figures(root: str):
    r"""Draw docs/_generated/timeline.png, circumplex.png and conversation.png."""
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    import audformat
    import audiofile
    import audresample

    audeer.mkdir(root)
    static = os.path.join(_docs_root, "_static")
    signal, sampling_rate = audiofile.read(os.path.join(static, "speech.wav"))
    with tempfile.TemporaryDirectory() as tmp:
        # models, fingerprints and results stay in the temporary folder
        model_root = audemo.testing.create_model(os.path.join(tmp, "model"))

        # speech.wav in windows of 1 s, moved by 0.5 s
        interface = audemo.Emotion(
            model_root, win_dur=1.0, hop_dur=0.5, model_cache_root=tmp
        )
        frame = interface.process_index(
            audformat.filewise_index(["speech.wav"]), root=static
        )
        ax = audemo.plot.timeline(frame, file="speech.wav")
        ax.figure.savefig(
            os.path.join(root, "timeline.png"), dpi=100, bbox_inches="tight"
        )
        plt.close(ax.figure)

        # eight versions of speech.wav: two pitches (by resampling
        # and playing back at 16 kHz) times four gains
        files = []
        for factor in (0.85, 1.15):
            shifted = audresample.resample(
                signal, sampling_rate, int(sampling_rate * factor)
            )[0]
            for gain in (0.1, 0.3, 0.6, 1.2):
                file = f"speech-{factor}-{gain}.wav"
                audiofile.write(
                    os.path.join(tmp, file),
                    np.clip(gain * shifted, -1.0, 1.0),
                    sampling_rate,
                )
                files.append(file)
        interface = audemo.Emotion(model_root, model_cache_root=tmp)
        frame = interface.process_index(
            audformat.filewise_index(files), root=tmp, preserve_index=True
        )
        ax = audemo.plot.circumplex(frame)
        ax.figure.savefig(
            os.path.join(root, "circumplex.png"), dpi=100, bbox_inches="tight"
        )
        plt.close(ax.figure)

        # a conversation: speech.wav (A) and a higher version of it (B)
        # taking turns, B's first turn 0.5 s into the end of A's
        voices = {
            "A": signal,
            "B": audresample.resample(signal, sampling_rate, int(sampling_rate / 1.2))[
                0
            ],
        }
        script, position = [], 0.0
        for speaker in ("A", "B", "A", "B"):
            start = max(0.0, position - (0.5 if speaker == "B" else -0.4))
            script.append(
                (speaker, start, start + len(voices[speaker]) / sampling_rate)
            )
            position = script[-1][2]
        recording = np.zeros(int((position + 0.5) * sampling_rate), dtype=np.float32)
        for speaker, start, end in script:
            begin = int(start * sampling_rate)
            recording[begin : begin + len(voices[speaker])] += voices[speaker]
        audiofile.write(
            os.path.join(tmp, "call.wav"),
            recording / np.abs(recording).max() * 0.9,
            sampling_rate,
        )
        turns = pd.Series(
            [speaker for speaker, _, _ in script],
            index=audformat.segmented_index(
                ["call.wav"] * len(script),
                [start for _, start, _ in script],
                [end for _, _, end in script],
            ),
        )
        interface = audemo.Emotion(
            model_root, win_dur=1.0, hop_dur=0.5, model_cache_root=tmp
        )
        figure = audemo.plot.conversation(interface.process_turns(turns, root=tmp))
        figure.savefig(
            os.path.join(root, "conversation.png"), dpi=100, bbox_inches="tight"
        )
        plt.close(figure)


make_figures(_generated_root)


# :cite: role -------------------------------------------------------------
# Docstrings cite the paper of the model with :cite:`wagner2023`.
# sphinxcontrib-bibtex is not a dependency,
# so the role links to the citation on the model page instead.
CITATIONS = {
    "wagner2023": ("Wagner et al. (2023)", "wagner2023"),
}


def cite_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    r"""Render :cite:`key` as a link to the model page's citation."""
    keys = [key.strip() for key in text.split(",")]
    result = []
    for i, key in enumerate(keys):
        if i:
            result.append(nodes.Text(", "))
        if key not in CITATIONS:
            msg = inliner.reporter.error(
                f"Unknown citation key '{key}', known: {sorted(CITATIONS)}",
                line=lineno,
            )
            problem = inliner.problematic(rawtext, rawtext, msg)
            return [problem], [msg]
        label, target = CITATIONS[key]
        xref = addnodes.pending_xref(
            "",
            nodes.inline(label, label, classes=["xref", "std", "std-ref"]),
            refdomain="std",
            reftype="ref",
            reftarget=target,
            refexplicit=True,
            refwarn=True,
        )
        result.append(xref)
    return result, []


# Docstrings of re-exported data ------------------------------------------
# audemo re-exports data such as MODELS from the module that defines it.
# autodoc looks for the attribute docstring (r"""...""" after the assignment)
# only in the module it documents (audemo)
# and falls back to the docstring of the value's type (dict).
# Take the attribute docstring of the defining module instead.
def data_docstring(app, what, name, obj, options, lines):
    r"""Replace the type's docstring of re-exported data by its own."""
    if what != "data" or "." not in name:
        return
    package, attr = name.rsplit(".", 1)
    for module_name in sorted(sys.modules):
        if not module_name.startswith(package + ".") or module_name == name:
            continue
        module = sys.modules[module_name]
        if getattr(module, attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except Exception:  # module without source
            continue
        if ("", attr) in docs:
            lines[:] = list(docs[("", attr)])
            return


def setup(app):
    r"""Register the :cite: role and the docstring fix of data."""
    app.add_role("cite", cite_role)
    app.connect("autodoc-process-docstring", data_docstring)
