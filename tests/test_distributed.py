import glob
import os
import shutil
import signal
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import audeer
import audformat
import audiofile

import audemo
from audemo.core import cache
from audemo.core import distributed
import audemo.distributed


dask_distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def worker_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("worker-cache"))


@pytest.fixture(scope="module")
def client(worker_cache):
    r"""Two worker processes with one thread each on 127.0.0.1."""
    with pytest.MonkeyPatch.context() as patch:
        # workers, and workers restarted by their nanny, use this model cache
        patch.setenv("AUDEMO_CACHE_ROOT", worker_cache)
        cluster = dask_distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env={"AUDEMO_CACHE_ROOT": worker_cache},
        )
        client = dask_distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory, speech_files):
    r"""An audformat database of speech, saved and loaded again."""
    root = str(tmp_path_factory.mktemp("db"))
    files = []
    for copy in range(4):
        for path in speech_files:
            file = f"audio/{copy}-{os.path.basename(path)}"
            audeer.mkdir(root, "audio")
            shutil.copy(path, os.path.join(root, file))
            files.append(file)
    db = audformat.Database("speech")
    db.schemes["text"] = audformat.Scheme("str")
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db["files"]["text"] = audformat.Column(scheme_id="text")
    db["files"]["text"].set(files)
    db.save(root)
    return audformat.Database.load(root)


@pytest.mark.slow
@pytest.mark.network
def test_equal_to_local(client, db, model_root, worker_cache):
    interface = audemo.Emotion(model_root, outputs=["logits", "hidden_states"])
    index = db.files
    expected = interface.process_index(index, root=db.root)
    result = audemo.distributed.process_index(
        interface, index, client=client, root=db.root, partition_size=5
    )
    pd.testing.assert_frame_equal(result, expected)
    # the worker processes share the weights, mapped from their cache
    assert os.listdir(os.path.join(worker_cache, "weights"))

    # segmented index, sliding windows
    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    index = audformat.segmented_index(
        list(db.files[:4]), [0.0, 0.5, 1.0, 0.0], [2.0, 3.0, pd.NaT, 2.5]
    )
    expected = interface.process_index(index, root=db.root)
    result = audemo.distributed.process_index(
        interface, index, client=client, root=db.root, partition_size=3, verbose=False
    )
    pd.testing.assert_frame_equal(result, expected)

    # empty index
    empty = audformat.filewise_index()
    pd.testing.assert_frame_equal(
        audemo.distributed.process_index(interface, empty, client=client),
        interface.process_index(empty),
    )


@pytest.mark.slow
@pytest.mark.network
def test_segments(client, db, model_root, tmp_path):
    silence = str(tmp_path / "silence.wav")
    audiofile.write(silence, np.zeros((1, 16000), dtype="float32"), 16000)
    interface = audemo.Emotion(model_root, segment=audemo.VoiceActivity())
    files = [os.path.join(db.root, file) for file in db.files[:2]] + [silence]
    index = audformat.filewise_index(files)
    with pytest.warns(RuntimeWarning, match="no segments") as local:
        expected = interface.process_index(index)
    with pytest.warns(RuntimeWarning, match="no segments") as remote:
        result = audemo.distributed.process_index(
            interface, index, client=client, partition_size=1
        )
    pd.testing.assert_frame_equal(result, expected)
    assert len(local) == len(remote) == 1


@pytest.mark.slow
@pytest.mark.network
def test_resume(client, db, model_root, cache_root):
    interface = audemo.Emotion(model_root)
    index = db.files
    # 12 rows in parts of 5: 3 parts
    first = audemo.distributed.process_index(
        interface,
        index,
        client=client,
        root=db.root,
        cache_root=cache_root,
        partition_size=5,
    )
    paths = sorted(glob.glob(os.path.join(cache_root, "*", "*", "part-*.parquet")))
    assert [os.path.basename(path)[:21] for path in paths] == [
        f"part-{part:06d}-of-000003" for part in range(3)
    ]
    mtimes = {path: os.stat(path).st_mtime_ns for path in paths}
    time.sleep(0.05)
    os.remove(paths[1])
    second = audemo.distributed.process_index(
        interface,
        index,
        client=client,
        root=db.root,
        cache_root=cache_root,
        partition_size=5,
    )
    pd.testing.assert_frame_equal(second, first)
    assert os.path.exists(paths[1])
    assert os.stat(paths[0]).st_mtime_ns == mtimes[paths[0]]
    assert os.stat(paths[2]).st_mtime_ns == mtimes[paths[2]]
    assert os.stat(paths[1]).st_mtime_ns > mtimes[paths[1]]

    # all parts cached: nothing is submitted
    class NoClient:
        def submit(self, *args, **kwargs):
            raise AssertionError("nothing must be submitted")

        def cancel(self, futures):
            assert futures == []

    third = audemo.distributed.process_index(
        interface,
        index,
        client=NoClient(),
        root=db.root,
        cache_root=cache_root,
        partition_size=5,
    )
    pd.testing.assert_frame_equal(third, first)


@pytest.mark.slow
@pytest.mark.network
def test_cache_shared_with_local(client, db, model_root, cache_root):
    interface = audemo.Emotion(model_root)
    index = db.files
    # the default partition size is the part size of the local cache
    assert (
        audemo.distributed.process_index.__kwdefaults__["partition_size"]
        == cache.PART_SIZE
    )
    local = interface.process_index(index, root=db.root, cache_root=cache_root)
    paths = glob.glob(os.path.join(cache_root, "*", "*", "part-*.parquet"))
    assert len(paths) == 1
    # the cluster reuses the local cache: nothing is submitted
    os.utime(paths[0], (0, 0))
    remote = audemo.distributed.process_index(
        interface, index, client=client, root=db.root, cache_root=cache_root
    )
    pd.testing.assert_frame_equal(remote, local)
    assert os.stat(paths[0]).st_mtime == 0
    # and the local run reuses the cluster's cache
    os.remove(paths[0])
    remote = audemo.distributed.process_index(
        interface, index, client=client, root=db.root, cache_root=cache_root
    )
    os.utime(paths[0], (0, 0))
    local = interface.process_index(index, root=db.root, cache_root=cache_root)
    pd.testing.assert_frame_equal(remote, local)
    assert os.stat(paths[0]).st_mtime == 0


@pytest.mark.slow
@pytest.mark.network
def test_cache_key_covers_root_and_files(client, db, model_root, tmp_path):
    # the same file names under another root, with other audio
    other = str(tmp_path / "other")
    shutil.copytree(db.root, other)
    files = list(db.files)
    for file, source in zip(files, files[1:] + files[:1]):
        shutil.copy(os.path.join(db.root, source), os.path.join(other, file))
    interface = audemo.Emotion(model_root)
    index = db.files
    cache_root = str(tmp_path / "results")
    local = interface.process_index(index, root=db.root, cache_root=cache_root)
    remote = audemo.distributed.process_index(
        interface, index, client=client, root=other, cache_root=cache_root
    )
    pd.testing.assert_frame_equal(remote, interface.process_index(index, root=other))
    assert not np.allclose(remote.values, local.values)

    # by content, a moved database keeps the cache of local and cluster runs
    class NoClient:
        def submit(self, *args, **kwargs):
            raise AssertionError("nothing must be submitted")

        def cancel(self, futures):
            assert futures == []

    local = interface.process_index(
        index, root=other, cache_root=cache_root, file_key="content"
    )
    moved = str(tmp_path / "moved")
    shutil.move(other, moved)
    remote = audemo.distributed.process_index(
        interface,
        index,
        client=NoClient(),
        root=moved,
        cache_root=cache_root,
        file_key="content",
    )
    pd.testing.assert_frame_equal(remote, local)


@pytest.mark.slow
@pytest.mark.network
def test_coerce(client, db, model_root, cache_root):
    interface = audemo.Emotion(model_root, errors="coerce")
    index = db.files[:5].append(audformat.filewise_index(["audio/missing.wav"]))
    index = index.append(db.files[5:])
    with pytest.warns(RuntimeWarning) as record:
        result = audemo.distributed.process_index(
            interface,
            index,
            client=client,
            root=db.root,
            cache_root=cache_root,
            partition_size=3,
        )
    messages = [str(warning.message) for warning in record]
    assert len(messages) == 1
    assert messages[0].startswith("1 of 13 files failed")
    assert "missing.wav" in messages[0]
    assert result.attrs["failures"] == 1
    assert list(result.index.get_level_values("file")) == list(index)
    assert result.loc[result.index[5]].isna().all()
    assert result.drop(index=result.index[5]).notna().all().all()
    # the part with the failure is not cached
    paths = glob.glob(os.path.join(cache_root, "*", "*", "part-*.parquet"))
    assert len(paths) == 4
    assert not any("part-000001-" in path for path in paths)

    # errors="raise": the error of the worker, once, not retried
    interface = audemo.Emotion(model_root)
    with pytest.raises(Exception, match="missing.wav"):
        audemo.distributed.process_index(
            interface, index, client=client, root=db.root, partition_size=3
        )


@pytest.mark.slow
@pytest.mark.network
def test_killed_worker(client, tmp_path, speech_files, model_root):
    # many short tasks, so that a worker dies while work is left
    files = []
    for number in range(120):
        file = str(tmp_path / f"{number:03d}.wav")
        os.symlink(speech_files[number % len(speech_files)], file)
        files.append(file)
    index = audformat.filewise_index(files)
    interface = audemo.Emotion(model_root)
    expected = interface.process_index(index)

    results = {}

    def run():
        results["frame"] = audemo.distributed.process_index(
            interface, index, client=client, partition_size=2, verbose=False
        )

    thread = threading.Thread(target=run)
    thread.start()
    pids = client.run(os.getpid)
    killed = None
    while thread.is_alive() and killed is None:
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        if busy and busy[0] in pids:
            killed = pids[busy[0]]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.01)
    thread.join(timeout=50)
    assert killed is not None
    assert not thread.is_alive()
    pd.testing.assert_frame_equal(results["frame"], expected)
    # the nanny started a new worker process
    client.wait_for_workers(2, timeout=20)
    assert killed not in client.run(os.getpid).values()


def test_worker_side(db, model_root):
    interface = audemo.Emotion(model_root, errors="coerce")
    overrides = (("device", "cpu"), ("num_threads", 1))
    index = audformat.filewise_index(["audio/missing.wav", db.files[0]])
    frame, failures = distributed._run_partition(
        interface.to_yaml_s(), overrides, index, db.root
    )
    assert len(failures) == 1
    assert frame.iloc[0].isna().all()
    interface = audemo.Emotion(model_root)
    frame, error = distributed._run_partition(
        interface.to_yaml_s(), overrides, index, db.root
    )
    assert frame is None
    assert "missing.wav" in str(error)


def test_model_fingerprint_checked_on_workers(model_root, tmp_path):
    interface = audemo.Emotion(model_root)
    yaml = interface.to_yaml_s().replace(interface.fingerprint, "f" * 64)
    with pytest.raises(RuntimeError, match="fingerprint"):
        distributed._interface(yaml, (), 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"client": None}, "client"),
        ({"interface": "emotion"}, "audemo.Emotion"),
        ({"partition_size": 0}, "partition_size"),
        ({"partition_size": True}, "partition_size"),
        ({"index": pd.Index(["a.wav"])}, "audformat"),
        ({"file_key": "name"}, "file_key"),
    ],
)
def test_errors(model_root, kwargs, match):
    arguments = {
        "interface": audemo.Emotion(model_root),
        "index": audformat.filewise_index(["a.wav"]),
        "client": object(),
    }
    arguments.update(kwargs)
    interface = arguments.pop("interface")
    index = arguments.pop("index")
    with pytest.raises(ValueError, match=match):
        audemo.distributed.process_index(interface, index, **arguments)


def test_segment_not_serializable(model_root):
    import audinterface

    interface = audemo.Emotion(
        model_root,
        segment=audinterface.Segment(
            process_func=lambda signal, sampling_rate: audformat.segmented_index()
        ),
    )
    with pytest.raises(ValueError, match="serialized"):
        audemo.distributed.process_index(
            interface, audformat.filewise_index(["a.wav"]), client=object()
        )


@pytest.mark.slow
@pytest.mark.network
def test_no_warnings_without_failures(client, db, model_root):
    interface = audemo.Emotion(model_root, errors="coerce")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = audemo.distributed.process_index(
            interface, db.files, client=client, root=db.root, partition_size=4
        )
    assert result.attrs["failures"] == 0
