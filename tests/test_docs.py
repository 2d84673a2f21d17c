r"""What README.md and docs/ state agrees with the package and its measurements.

.ci/docs_commands.py runs their shell commands;
these tests check the claims that running them cannot.

"""

import glob
import json
import os
import re
import tomllib

import yaml

import audemo


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")


def read(*path: str) -> str:
    with open(os.path.join(ROOT, *path), encoding="utf-8") as fp:
        return fp.read()


def extras() -> set[str]:
    pyproject = tomllib.loads(read("pyproject.toml"))
    return set(pyproject["project"]["optional-dependencies"])


def test_examples_use_the_packaged_speech_file():
    # the examples run from an installed package, not only from a clone
    for page in glob.glob(os.path.join(DOCS, "*.rst")):
        with open(page, encoding="utf-8") as fp:
            examples = [line for line in fp if line.startswith((">>>", "..."))]
        for line in examples:
            assert "__file__" not in line and "_static" not in line, (page, line)
    assert os.path.isfile(audemo.testing.speech_file())
    package_data = tomllib.loads(read("pyproject.toml"))["tool"]["setuptools"][
        "package-data"
    ]["audemo"]
    assert "core/data/*" in package_data


def test_extras_listed():
    # README and install.rst name every extra with what it enables
    readme = read("README.md")
    rows = re.findall(r"^\| `([a-z]+)` \| .+ \| .+ \|$", readme, flags=re.M)
    assert set(rows) == extras()
    install = read("docs", "install.rst")
    rows = re.findall(r"^    \* - ``([a-z]+)``$", install, flags=re.M)
    assert set(rows) == extras()


def test_pip_commands_name_only_extras():
    # tests and docs are dependency groups: .[tests] installs nothing more
    for document in ("README.md", os.path.join("docs", "install.rst")):
        for names in re.findall(r"pip install [^\n]*?\.\[([^\]]+)\]", read(document)):
            assert set(names.split(",")) <= extras(), (document, names)


def test_readme_speed_up_is_the_measured_one():
    readme = " ".join(read("README.md").split())
    claims = re.findall(r"(\d+\.\d+)x faster than the how-to recipe given all", readme)
    assert len(claims) == 1
    results = json.loads(
        read("benchmarks", "results", "performance-amd-epyc-2core.json")
    )["results"]
    (measured,) = [
        row["x_tuned"]
        for row in results
        if row["input"].startswith("200 files")
        and row["outputs"] == "logits+hidden_states"
        and row["method"] == "audemo"
    ]
    assert claims[0] == f"{measured:.2f}"
    assert not re.search(r"\d\.\d\dx faster than the how-to recipe\b(?! given)", readme)


def test_usage_yaml_listing_is_complete(tmp_path):
    # every key the pipeline YAML holds is in the listing of usage.rst
    listing = re.search(
        r"^\$audemo\.core\.emotion\.Emotion==\.\.\.:\n(.*?)^<BLANKLINE>",
        read("docs", "usage.rst"),
        flags=re.M | re.S,
    ).group(1)
    listed = re.findall(r"^  ([a-z_]+):", listing, flags=re.M)
    model = audemo.testing.create_model(str(tmp_path / "model"))
    path = str(tmp_path / "emotion.yaml")
    audemo.Emotion(model, outputs=["logits", "hidden_states"]).to_yaml(path)
    with open(path) as fp:
        (written,) = yaml.safe_load(fp).values()
    assert listed == list(written)


def test_performance_table_is_the_measured_one():
    # the speed-ups of docs/performance.rst are those of the raw results
    results = json.loads(
        read("benchmarks", "results", "performance-amd-epyc-2core.json")
    )["results"]
    measured = {(row["input"], row["outputs"], row["method"]): row for row in results}
    rows = re.findall(
        r"^(\S.*?\S)  +(logits(?: \+ embedding)?)  +(\S+(?: \S+)?)  +([\d.]+)  +"
        r"([\d.]+)  +([\d.]+)  +\d+$",
        read("docs", "performance.rst"),
        flags=re.M,
    )
    assert len(rows) > 20
    for name, outputs, method, rtf, x_recipe, x_tuned in rows:
        outputs = outputs.replace(" + embedding", "+hidden_states")
        row = measured[(name, outputs, method.replace(" ", "-"))]
        expected = [f"{row[key]:.2f}" for key in ("x_recipe", "x_tuned")]
        assert [f"{row['rtf']:.3f}"] + expected == [rtf, x_recipe, x_tuned], name
