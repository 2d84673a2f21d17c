r"""Start-up: what ``import audemo`` and ``audemo --help`` import.

Checked in a fresh interpreter (``sys.modules``), not by timing.

"""

import json
import subprocess
import sys

import pytest

from audemo.core.cli import COMMANDS


# packages that cost 0.1-0.7 s each to import
HEAVY = ("onnx", "onnxruntime", "audonnx", "matplotlib", "sklearn", "starlette")
HEAVY_FOR_HELP = (*HEAVY, "pandas", "audformat", "audinterface")


def imported_by(code: str, cwd: str | None = None) -> list[str]:
    r"""Heavy packages in ``sys.modules`` after ``code`` in a fresh interpreter."""
    script = (
        "import contextlib, io, json, sys\n"
        f"{code}\n"
        f"print(json.dumps([name for name in {HEAVY_FOR_HELP!r} "
        "if name in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=cwd,
    )
    return json.loads(result.stdout.splitlines()[-1])


def help_code(*argv: str) -> str:
    r"""Code that prints the help of ``audemo ARGV`` as the command does."""
    return (
        "from audemo.core.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        f"        main({list(argv)!r})\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "printed = out.getvalue()\n"
        "assert printed.startswith(('usage: audemo', 'audemo ')), printed\n"
    )


def test_import_audemo(tmp_path):
    assert imported_by("import audemo") == []
    # what is used is imported: onnx comes with audonnx, for the model
    code = "import audemo; audemo.testing.create_model('model')"
    assert "onnx" in imported_by(code, cwd=tmp_path)


def test_lazy_public_names():
    from audemo import Emotion
    import audemo.core.emotion

    assert Emotion is audemo.core.emotion.Emotion
    assert audemo.read_rttm.__module__ == "audemo.core.conversation.turns"
    assert audemo.plot.__name__ == "audemo.plot"
    # every public name is listed and resolves
    public = [name for name in dir(audemo) if not name.startswith("_")]
    assert {"Emotion", "testing", "plot", "evaluate", "Stream"} <= set(public)
    for name in public:
        getattr(audemo, name)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        audemo.no_such_name


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["download", "--help"],
        ["info", "--help"],
        ["compare", "--help"],
        ["plot", "--help"],
        ["summary", "--help"],
    ],
)
def test_help_imports_no_heavy_package(argv):
    assert imported_by(help_code(*argv)) == []


def test_help_lists_every_command(capsys):
    from audemo.core.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, line in COMMANDS.items():
        assert f"{name} {line}" in text
