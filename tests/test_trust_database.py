r"""Untrusted audformat databases run no code in audemo's command line.

audformat reads ``db.yaml`` with PyYAML's full loader
and prefers a table's pickle ``db.<table>.pkl``:
both run code from the database folder.
Each attack runs in a child process (:func:`sandbox.run_limited`)
and leaves a marker file if its code runs;
a control shows that plain audformat does run it.
"""

import json
import os
import pickle
import shutil
import signal

import pandas as pd
import pytest
from sandbox import run_limited

import audeer
import audformat

import audemo
from audemo.core.cli import main
from audemo.core.database import load_database
from audemo.core.results import read_results


COMMANDS = r"""
import contextlib, io, json, os
from audemo.core.cli import main

results = {}
for name, argv in json.loads(ARGV):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    results[name] = [code, os.path.exists(MARKER), stderr.getvalue()]
    if os.path.exists(MARKER):
        os.remove(MARKER)
print(json.dumps(results))
"""


class Attack:
    r"""Unpickling runs ``os.system(command)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.fixture
def database(speech_files, tmp_path):
    r"""audformat database (CSV tables) with gold labels and speakers."""
    root = audeer.mkdir(tmp_path / "db")
    files = [os.path.basename(file) for file in speech_files]
    for file in speech_files:
        shutil.copy(file, root)
    db = audformat.Database("trust", source="espeak-ng", usage="unrestricted")
    db.schemes["rating"] = audformat.Scheme("float")
    db.schemes["speaker"] = audformat.Scheme("str")
    db["gold"] = audformat.Table(audformat.filewise_index(files))
    for column, values in [("arousal", [0.8, 0.2, 0.5]), ("valence", [0.9, 0.1, 0.5])]:
        db["gold"][column] = audformat.Column(scheme_id="rating")
        db["gold"][column].set(values)
    db["gold"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["gold"]["speaker"].set(["a", "b", "a"])
    db.save(root, storage_format="csv")
    return root


def run_commands(commands, tmp_path, marker):
    code = f"ARGV = {json.dumps(json.dumps(commands))}\nMARKER = {marker!r}\n"
    process = run_limited(code + COMMANDS, cwd=str(tmp_path))
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def audformat_runs_attack(root, tmp_path, marker):
    r"""Control: plain audformat runs the database's code."""
    code = f"""
        import audformat
        try:
            audformat.Database.load({root!r})["gold"].get()
        except Exception:
            pass
    """
    run_limited(code, cwd=str(tmp_path))
    ran = os.path.exists(marker)
    if ran:
        os.remove(marker)
    return ran


def commands(root, model_root, tmp_path):
    results = str(tmp_path / "results.csv")
    pd.DataFrame(
        {"file": ["happy.wav"], "start": ["0 days"], "end": ["0 days 00:00:01"]}
        | {"arousal": [0.5], "valence": [0.5]}
    ).to_csv(results, index=False)
    return [
        ["predict", ["predict", root, "--model", model_root]],
        [
            "report",
            ["report", results, "--truth", f"{root}:gold", "-o", "r.md", "--overwrite"],
        ],
        [
            "categories",
            ["categories", f"{root}:gold:speaker", "--speaker", "speaker"]
            + ["-o", str(tmp_path / "head"), "--model", model_root],
        ],
    ]


@pytest.mark.slow
@pytest.mark.subprocess
def test_python_tag_in_header(database, model_root, tmp_path):
    marker = str(tmp_path / "marker")
    header = os.path.join(database, "db.yaml")
    with open(header, "a") as file:
        file.write(f"author: !!python/object/apply:os.system ['touch {marker}']\n")
    assert audformat_runs_attack(database, tmp_path, marker)

    results = run_commands(commands(database, model_root, tmp_path), tmp_path, marker)
    for name, (code, ran, stderr) in results.items():
        assert not ran, name
        assert code == 1, (name, stderr)
        assert "Database header" in stderr and "Python tags are refused" in stderr


@pytest.mark.slow
@pytest.mark.subprocess
def test_pickled_table(database, model_root, tmp_path):
    marker = str(tmp_path / "marker")

    def attack():
        with open(os.path.join(database, "db.gold.pkl"), "wb") as file:
            pickle.dump(Attack(f"touch {marker}"), file)

    attack()
    assert audformat_runs_attack(database, tmp_path, marker)
    attack()  # audformat replaced the pickle that failed to give a table

    # beside its CSV file the pickle is ignored: the commands work
    argv = commands(database, model_root, tmp_path)
    argv[0][1] += ["-o", str(tmp_path / "results.csv"), "--overwrite"]
    results = run_commands(argv[:2], tmp_path, marker)
    for name, (code, ran, stderr) in results.items():
        assert not ran, name
        assert code == 0, (name, stderr)
    assert "n=3" in results["report"][2]

    # alone it is refused
    os.remove(os.path.join(database, "db.gold.csv"))
    results = run_commands(commands(database, model_root, tmp_path), tmp_path, marker)
    for name, (code, ran, stderr) in results.items():
        assert not ran, name
        assert code == 1, (name, stderr)
        assert "stored only as a pickle (db.gold.pkl)" in stderr
        assert "does not read pickles" in stderr


def test_table_id_with_path_separator(database, tmp_path):
    header = os.path.join(database, "db.yaml")
    with open(header) as file:
        text = file.read()
    with open(header, "w") as file:
        file.write(text.replace("  gold:", "  ../outside/gold:"))
    with pytest.raises(ValueError, match="path separator"):
        load_database(database)


def test_load_database_equals_audformat(database, publish_and_load, tmp_path):
    # misc table as scheme labels, parquet and CSV tables
    db = audformat.Database.load(database)
    db.misc_tables["speakers"] = audformat.MiscTable(
        pd.Index(["a", "b"], name="speaker")
    )
    db.misc_tables["speakers"]["age"] = audformat.Column()
    db.misc_tables["speakers"]["age"].set([31, 47])
    db.schemes["speaker"] = audformat.Scheme("str", labels="speakers")
    db["files"] = audformat.Table(db["gold"].index)
    db.save(database)  # parquet for the new tables, CSV kept for gold
    assert load_database(database) == audformat.Database.load(database)
    assert load_database(database)["gold"].get().equals(db["gold"].get())

    # audb keeps a pickle of each table beside it in its cache
    loaded = publish_and_load(database)
    assert any(name.endswith(".pkl") for name in os.listdir(loaded.root))
    assert load_database(loaded.root) == audformat.Database.load(loaded.root)
    assert load_database(loaded.root)["speakers"].get().equals(loaded["speakers"].get())


def test_bad_headers(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_database(str(tmp_path))
    with open(tmp_path / "db.yaml", "w") as file:
        file.write("- just\n- a list\n")
    with pytest.raises(ValueError, match="not an audformat header"):
        load_database(str(tmp_path))


# ----- a run killed while it writes ----------------------------------------

KILLED = r"""
import os, resource, signal, sys
from audemo.core.cli import main

writes = 0


def kill_before(event, args):
    # SIGKILL just before the AT-th write, rename or removal in FOLDER
    global writes
    if event == "open":
        path, _, flags = args
        if not isinstance(path, str) or not flags & (os.O_WRONLY | os.O_RDWR):
            return
    elif event in ("os.rename", "os.remove"):
        path = args[0]
    else:
        return
    if os.path.abspath(path).startswith(FOLDER + os.sep):
        writes += 1
        if writes == AT:
            os.kill(os.getpid(), signal.SIGKILL)


if AT is not None:
    sys.addaudithook(kill_before)
if FSIZE is not None:
    # the kernel kills the process in the write that passes FSIZE bytes
    # (Python ignores SIGXFSZ, so a write would only fail)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE, FSIZE))
sys.exit(main(ARGV))
"""


def killed_run(argv, folder, tmp_path, *, at=None, fsize=None):
    r"""Run the command line ``argv`` in a child, killed as asked.

    Returns:
        whether the child was killed

    """
    code = f"ARGV = {argv!r}\nFOLDER = {folder!r}\nAT = {at}\nFSIZE = {fsize}\n"
    process = run_limited(
        code + KILLED, cwd=str(tmp_path), env={"PYTHONDONTWRITEBYTECODE": "1"}
    )
    killed = process.returncode in (-signal.SIGKILL, -signal.SIGXFSZ)
    assert killed or process.returncode == 0, process.stderr
    return killed


def kill_sweep(argv, folder, tmp_path, restore, check, files):
    r"""Run ``argv``, killed at each of its writes in turn, and within them.

    A first series kills it just before each write, rename or removal
    of a file in ``folder`` until a run ends;
    a second one kills it within writing, at half the size of each of
    ``files`` (as a complete run writes them).
    ``restore()`` sets up the folder before each run,
    ``check(killed)`` looks at what the run left.

    Returns:
        the number of writes, renames and removals of the run that ended

    """
    for at in range(1, 50):
        restore()
        killed = killed_run(argv, folder, tmp_path, at=at)
        check(killed)
        if not killed:
            break
    for size in sorted({os.path.getsize(file) // 2 for file in files}):
        restore()
        assert killed_run(argv, folder, tmp_path, fsize=size)
        check(True)
    return at - 1


@pytest.mark.slow
@pytest.mark.subprocess
def test_killed_database_write(database, model_root, tmp_path):
    # a table of model A replaced by one of model B, killed at every write:
    # the database loads, its gold table untouched, the table A's or B's
    other_model = audemo.testing.create_model(str(tmp_path / "other"), seed=3)
    argv = ["predict", database, "-o", database, "--table", "emotion"]
    assert main([*argv, "--model", model_root]) == 0
    # the table kept in CSV as well, as audformat keeps other formats up to date
    audformat.Database.load(database).save(database, storage_format="csv")
    assert os.path.exists(os.path.join(database, "db.emotion.csv"))
    before = shutil.copytree(database, str(tmp_path / "before"))
    done = shutil.copytree(database, str(tmp_path / "done"))
    argv_b = [*argv, "--model", other_model, "--overwrite"]
    assert main([done if arg == database else arg for arg in argv_b]) == 0
    expected = {}
    for root in (before, done):
        table = load_database(root)["emotion"]
        expected[table.meta["fingerprint"]] = table.get()
    assert len(expected) == 2
    gold = load_database(before)["gold"].get()
    gold_file = os.path.join(database, "db.gold.csv")

    def restore():
        shutil.rmtree(database)
        shutil.copytree(before, database)
        restore.gold = os.stat(gold_file)

    def check(killed):
        db = load_database(database)
        pd.testing.assert_frame_equal(db["gold"].get(), gold)
        # the gold table was not written again
        assert os.stat(gold_file).st_mtime_ns == restore.gold.st_mtime_ns
        if "emotion" in db.tables or not killed:
            table = db["emotion"]
            pd.testing.assert_frame_equal(
                table.get(), expected[table.meta["fingerprint"]]
            )
        if not killed:
            assert table.meta["fingerprint"] == audemo.Emotion(other_model).fingerprint
            # the new table alone: no CSV file with the old rows beside it
            assert not os.path.exists(os.path.join(database, "db.emotion.csv"))

    files = [os.path.join(done, name) for name in ("db.yaml", "db.emotion.parquet")]
    writes = kill_sweep(argv_b, database, tmp_path, restore, check, files)
    assert writes >= 3  # the header without the table, the table, the header


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("extension", ["csv", "parquet"])
def test_killed_results_write(database, model_root, tmp_path, extension):
    # results of model A replaced by those of model B (--overwrite):
    # a killed run leaves A's results, never a part of B's
    other_model = audemo.testing.create_model(str(tmp_path / "other"), seed=3)
    folder = audeer.mkdir(tmp_path / "out")
    output = os.path.join(folder, f"results.{extension}")
    assert main(["predict", database, "-o", output, "--model", model_root]) == 0
    before = read_results(output)
    with open(output, "rb") as file:
        old_bytes = file.read()
    after = str(tmp_path / f"after.{extension}")
    assert main(["predict", database, "-o", after, "--model", other_model]) == 0

    def restore():
        with open(output, "wb") as file:
            file.write(old_bytes)

    def check(killed):
        expected = before if killed else read_results(after)
        pd.testing.assert_frame_equal(read_results(output), expected)

    argv = ["predict", database, "-o", output, "--model", other_model, "--overwrite"]
    assert kill_sweep(argv, folder, tmp_path, restore, check, [after]) >= 1


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_table_file_not_regular_or_huge(database, model_root, tmp_path, kind):
    # a FIFO blocks the reader, /dev/zero never ends, 1 GiB + 1 is too large
    table = os.path.join(database, "db.gold.csv")
    os.remove(table)
    if kind == "fifo":
        os.mkfifo(table)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", table)
    else:  # sparse: takes no disk space
        with open(table, "wb") as file:
            file.truncate(1024**3 + 1)
    marker = str(tmp_path / "marker")
    results = run_commands(commands(database, model_root, tmp_path), tmp_path, marker)
    message = "is larger than" if kind == "huge" else "is not a regular file"
    for name, (code, _, stderr) in results.items():
        assert code == 1, (name, stderr)
        assert f"'{table}' {message}" in stderr, (name, stderr)
