import collections
import http.server
import io
import os
import shutil
import subprocess
import threading
import time
import zipfile

import pytest

import audemo


ALSA_SOUNDS = "/usr/share/sounds/alsa"
SENTENCES = {
    "happy.wav": "What a wonderful surprise, I am so happy to see you!",
    "sad.wav": "I lost everything today, and nobody even noticed.",
    "neutral.wav": "The train to Berlin leaves at ten past nine from platform two.",
}


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    r"""Keep every test away from ~/.cache/audemo and from proxies."""
    monkeypatch.setenv("AUDEMO_CACHE_ROOT", str(tmp_path / "audemo-cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("AUDEMO_OFFLINE", raising=False)


@pytest.fixture(scope="session")
def model_root(tmp_path_factory):
    return audemo.testing.create_model(str(tmp_path_factory.mktemp("model")))


@pytest.fixture
def cache_root(tmp_path):
    return str(tmp_path / "cache")


def synthesize(text: str, path: str, *, sampling_rate: int = 16000, voice="en-us"):
    r"""Speak a sentence with espeak-ng and convert it with sox."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(
                f"{tool} is missing: apt-get install espeak-ng sox (see .ci/run)"
            )
    raw = path + ".raw.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", raw, text], check=True)
    subprocess.run(["sox", raw, "-r", str(sampling_rate), "-b", "16", path], check=True)
    os.remove(raw)
    return path


@pytest.fixture(scope="session")
def speech_root(tmp_path_factory):
    r"""Folder with three synthesized English sentences at 16 kHz."""
    root = str(tmp_path_factory.mktemp("speech"))
    for name, text in SENTENCES.items():
        synthesize(text, os.path.join(root, name))
    return root


@pytest.fixture(scope="session")
def speech_files(speech_root):
    return [os.path.join(speech_root, name) for name in SENTENCES]


@pytest.fixture(scope="session")
def human_voice():
    r"""A 48 kHz recording of a human voice from alsa-utils."""
    path = os.path.join(ALSA_SOUNDS, "Front_Center.wav")
    if not os.path.exists(path):
        raise RuntimeError("alsa-utils is missing: apt-get install alsa-utils")
    return path


def model_archive(
    root: str,
    *,
    subfolder: str | None = None,
    hidden_size: int = 32,
    seed: int = 0,
) -> bytes:
    r"""Zip of a test model folder, as bytes."""
    folder = audemo.testing.create_model(
        os.path.join(root, f"archive-model-{hidden_size}-{seed}"),
        hidden_size=hidden_size,
        seed=seed,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(os.listdir(folder)):
            arcname = f"{subfolder}/{name}" if subfolder else name
            archive.write(os.path.join(folder, name), arcname)
    return buffer.getvalue()


class ModelServer:
    r"""HTTP server on 127.0.0.1 that serves model archives.

    Counts the GET requests per path.
    A path can be set to drop the connection after half of its bytes,
    and sending can be slowed down to make downloads overlap.

    """

    def __init__(self):
        self.files = {}
        self.drop = set()
        self.delay = 0.0
        self.requests = collections.Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with server._lock:
                    server.requests[self.path] += 1
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.path in server.drop:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                step = max(1, len(data) // 10)
                for offset in range(0, len(data), step):
                    self.wfile.write(data[offset : offset + step])
                    time.sleep(server.delay / 10)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            # shutdown() waits up to one poll interval (0.5 s by default)
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    server = ModelServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    r"""Zip archive of the default test model."""
    return model_archive(str(tmp_path_factory.mktemp("archive")))


@pytest.fixture
def publish_and_load(tmp_path, monkeypatch):
    r"""Publish a database folder to a file-system audb repository, load it."""
    import audb
    import audbackend
    import audformat

    host = str(tmp_path / "audb-repository")
    os.makedirs(host, exist_ok=True)
    repository = audb.Repository("local", host, "file-system")
    audbackend.backend.FileSystem.create(repository.host, repository.name)
    # before publishing: audb would try its default repositories otherwise
    monkeypatch.setattr(audb.config, "REPOSITORIES", [repository])

    def publish_and_load(build_root: str) -> "audformat.Database":
        name = audformat.Database.load(build_root, load_data=False).name
        audb.publish(build_root, "1.0.0", repository, num_workers=1, verbose=False)
        return audb.load(
            name,
            version="1.0.0",
            cache_root=str(tmp_path / "audb-cache"),
            full_path=False,
            verbose=False,
        )

    return publish_and_load


@pytest.fixture
def run_in_tmpdir(tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    yield str(tmp_path)
    os.chdir(cwd)
