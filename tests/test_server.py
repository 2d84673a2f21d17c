import contextlib
import http.server
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import httpx
import numpy as np
import pandas as pd
import pytest
import soundfile
import uvicorn
import websockets.sync.client

import audiofile

import audemo
from audemo.core.cli import main
from audemo.core.live.server import create_app


# the command installed with this interpreter's environment,
# whether or not that environment is on PATH
AUDEMO = os.path.join(os.path.dirname(sys.executable), "audemo")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    r"""The real server on 127.0.0.1 in a thread."""

    def __init__(self, app):
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="error"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def url(self, path="", scheme="http"):
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = audemo.testing.create_model(str(tmp_path_factory.mktemp("model")))
    interface = audemo.Emotion(root)
    server = Server(create_app(interface, max_bytes=2_000_000))
    yield server, interface
    server.stop()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    root = audemo.testing.create_model(str(tmp_path_factory.mktemp("model")))
    server = Server(create_app(audemo.Emotion(root), token="s3cret"))
    yield server
    server.stop()


def expected_rows(frame):
    rows = []
    for (start, end), values in zip(
        frame.index.droplevel("file") if "file" in frame.index.names else frame.index,
        frame.to_dict("records"),
    ):
        rows.append(
            {"start": start.total_seconds(), "end": end.total_seconds(), **values}
        )
    return rows


@pytest.mark.network
def test_predict_equals_process_file(served, speech_files, human_voice):
    server, interface = served
    for path in [*speech_files, human_voice]:
        with open(path, "rb") as fp:
            response = httpx.post(server.url("/predict"), content=fp.read(), timeout=60)
        assert response.status_code == 200, response.text
        result = response.json()
        # the model's name, not the server's folder
        assert result["model"] == os.path.basename(interface.model)
        assert result["fingerprint"] == interface.fingerprint
        assert "license" in result
        expected = expected_rows(interface.process_file(path))
        assert result["rows"] == expected
        assert len(result["rows"]) == 1


@pytest.mark.network
def test_predict_flac(served, speech_files, tmp_path):
    server, interface = served
    signal, sampling_rate = audiofile.read(speech_files[0])
    path = str(tmp_path / "speech.flac")
    audiofile.write(path, signal, sampling_rate)
    with open(path, "rb") as fp:
        response = httpx.post(server.url("/predict"), content=fp.read(), timeout=60)
    assert response.json()["rows"] == expected_rows(interface.process_file(path))


@pytest.mark.network
def test_predict_errors(served):
    server, _ = served
    response = httpx.post(server.url("/predict"), content=b"hello, not audio")
    assert response.status_code == 415
    assert "not audio that audemo can read" in response.json()["error"]
    response = httpx.post(server.url("/predict"), content=b"")
    assert response.status_code == 415
    # too large: by its Content-Length, and while streaming without one
    response = httpx.post(server.url("/predict"), content=b"0" * 2_000_001)
    assert response.status_code == 413
    assert "larger than 2000000 bytes" in response.json()["error"]

    def chunks():
        for _ in range(30):
            yield b"0" * 100_000

    response = httpx.post(server.url("/predict"), content=chunks())
    assert response.status_code == 413
    response = httpx.get(server.url("/predict"))
    assert response.status_code == 405


@pytest.mark.network
def test_info_and_page(served):
    server, interface = served
    info = httpx.get(server.url("/info")).json()
    assert info["fingerprint"] == interface.fingerprint
    page = httpx.get(server.url("/"))
    assert page.status_code == 200
    assert "window.audemoRows" in page.text
    assert "CC BY-NC-SA 4.0" in page.text and "non-commercial" in page.text


def stream_rows(url, signal, chunk, *, end=True):
    rows = []
    # 16-bit PCM as it is, everything else as float32
    dtype = "<i2" if signal.dtype == np.int16 else "<f4"
    with websockets.sync.client.connect(url, max_size=None) as ws:
        for begin in range(0, signal.size, chunk):
            ws.send(signal[begin : begin + chunk].astype(dtype).tobytes())
        if end:
            ws.send("end")
            for message in ws:
                rows.append(json.loads(message))
        else:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(rows) < 1:
                rows.append(json.loads(ws.recv(timeout=30)))
    return rows


@pytest.mark.network
@pytest.mark.parametrize("sampling_rate", [16000, 44100])
def test_websocket_equals_stream(served, sampling_rate):
    server, interface = served
    rng = np.random.default_rng(3)
    signal = (rng.standard_normal(int(4.2 * sampling_rate)) * 0.1).astype("float32")
    url = server.url(
        f"/stream?sampling_rate={sampling_rate}&win_dur=1&hop_dur=0.5", "ws"
    )
    rows = stream_rows(url, signal, 333)
    stream = audemo.Stream(interface, win_dur=1.0, hop_dur=0.5)
    expected = pd.concat([stream.push(signal, sampling_rate), stream.close()])
    assert rows == expected_rows(expected)
    assert len(rows) == 7


@pytest.mark.network
def test_websocket_short_and_realtime(served):
    server, interface = served
    signal = (np.sin(np.arange(8000) / 10) * 0.3).astype("float32")
    rows = stream_rows(server.url("/stream", "ws"), signal, 4000)
    stream = audemo.Stream(interface)
    stream.push(signal, 16000)
    assert rows == expected_rows(stream.close())
    signal = np.tile(signal, 8)
    rows = stream_rows(server.url("/stream?realtime=1", "ws"), signal, 64000, end=False)
    assert rows[0]["skipped"] >= 0


@pytest.mark.network
def test_websocket_large_frames(served):
    # each frame holds more audio than the server takes in while it computes:
    # it stops reading until the stream caught up, and nothing is lost
    server, interface = served
    rng = np.random.default_rng(4)
    signal = (rng.standard_normal(2 * 480000) * 0.1).astype("float32")
    url = server.url("/stream?sampling_rate=8000&win_dur=4&hop_dur=4", "ws")
    rows = stream_rows(url, signal, 480000)
    stream = audemo.Stream(interface, win_dur=4.0, hop_dur=4.0)
    expected = pd.concat([stream.push(signal, 8000), stream.close()])
    assert rows == expected_rows(expected)
    assert len(rows) == 30


@pytest.fixture(scope="module")
def fine_hops(tmp_path_factory):
    r"""A server that allows hops below the default bound of 10 ms."""
    root = audemo.testing.create_model(str(tmp_path_factory.mktemp("model")))
    interface = audemo.Emotion(root)
    server = Server(create_app(interface, min_hop_dur=0.0005))
    yield server, interface
    server.stop()


@pytest.mark.slow
@pytest.mark.network
def test_websocket_realtime_catches_up(fine_hops):
    # frames of one hop each: a server that pushed frame by frame would
    # compute every window (each the newest of its push) and fall behind;
    # windows of 0.5 ms hop take longer to compute than to arrive
    server, interface = fine_hops
    rng = np.random.default_rng(5)
    signal = (rng.standard_normal(32000) * 0.1).astype("float32")
    query = "realtime=1&win_dur=0.025&hop_dur=0.0005"
    rows = stream_rows(server.url(f"/stream?{query}", "ws"), signal, 8)
    stream = audemo.Stream(interface, win_dur=0.025, hop_dur=0.0005)
    expected = expected_rows(stream.push(signal, 16000))
    assert len(expected) == 3951
    skipped = sum(row["skipped"] for row in rows)
    assert skipped > 0
    assert len(rows) + skipped == len(expected)
    # the rows computed are those of the stream, skipped ones left out
    by_start = {row["start"]: row for row in expected}
    for row in rows:
        assert {k: v for k, v in row.items() if k != "skipped"} == by_start[
            row["start"]
        ]


@pytest.mark.network
@pytest.mark.parametrize(
    "query, message",
    [
        ("sampling_rate=abc", "sampling_rate='abc' is not valid"),
        ("win_dur=0", "win_dur='0' is not valid"),
        ("hop_dur=-1", "hop_dur='-1' is not valid"),
        ("sampling_rate=100", "sampling_rate=100 is not supported"),
        ("win_dur=100", "win_dur='100' is not valid: give 0.025 to 60 seconds"),
        # what the model cannot process, and work without bounds
        ("win_dur=0.01", "win_dur='0.01' is not valid: give 0.025 to 60 seconds"),
        ("hop_dur=1e-5", "hop_dur='1e-5' is not valid: give 0.01 to 60 seconds"),
        ("hop_dur=6e-5", "hop_dur='6e-5' is not valid"),
        ("win_dur=nan", "win_dur='nan' is not valid"),
        ("hop_dur=inf", "hop_dur='inf' is not valid"),
        ("win_dur=60&hop_dur=0.5", "hop_dur of at least win_dur / 50 (1.2 s)"),
        ("realtime=yes", "realtime='yes' is not valid"),
        ("hop_dur=fast", "hop_dur='fast' is not valid"),
        ("format=s24le", "format='s24le' is not valid: give f32le or s16le"),
        ("windur=2", "Unknown parameter windur: this address takes format, hop_dur"),
    ],
)
def test_websocket_bad_query(served, query, message):
    server, _ = served
    with websockets.sync.client.connect(server.url(f"/stream?{query}", "ws")) as ws:
        assert message in json.loads(ws.recv(timeout=10))["error"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as error:
            ws.recv(timeout=10)
    assert error.value.rcvd.code == 1008


@pytest.mark.network
def test_websocket_bad_frame(served):
    server, _ = served
    with websockets.sync.client.connect(server.url("/stream", "ws")) as ws:
        ws.send(b"\x00\x01\x02")
        assert "multiple of 4 bytes" in json.loads(ws.recv(timeout=10))["error"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as error:
            ws.recv(timeout=10)
    assert error.value.rcvd.code == 1003
    with websockets.sync.client.connect(server.url("/stream?format=s16le", "ws")) as ws:
        ws.send(b"\x00\x01\x02")
        assert "multiple of 2 bytes" in json.loads(ws.recv(timeout=10))["error"]


def closing_error(url, frames, end=True):
    r"""Error message and close code of a stream that the server ends."""
    with websockets.sync.client.connect(url) as ws:
        for frame in frames:
            ws.send(frame)
        if end:
            try:
                ws.send("end")
            except websockets.exceptions.ConnectionClosed:
                pass  # closed already: the messages wait to be read
        messages = []
        with pytest.raises(websockets.exceptions.ConnectionClosed) as error:
            while True:
                messages.append(json.loads(ws.recv(timeout=30)))
    return messages[-1]["error"], error.value.rcvd.code


@pytest.mark.network
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_websocket_nan_frames(served, speech_files, bad):
    server, _ = served
    signal, _ = audiofile.read(speech_files[0])
    signal = signal.astype("<f4")
    signal[20000] = bad
    message, code = closing_error(
        server.url("/stream?win_dur=1&hop_dur=0.5", "ws"), [signal.tobytes()]
    )
    assert code == 1008
    assert "A frame has NaN or infinite samples" in message


@pytest.mark.network
def test_websocket_too_short_at_end(served):
    # 10 ms of audio and the end of the stream: less than the model needs
    server, _ = served
    message, code = closing_error(
        server.url("/stream", "ws"), [np.zeros(160, "<f4").tobytes()]
    )
    assert code == 1008
    assert "has 160 samples" in message and "needs at least 400" in message


@pytest.mark.network
def test_websocket_integer_pcm(served, speech_files):
    # 16-bit PCM of real speech: with format=s16le the rows of the float
    # samples audiofile reads; sent as float32 it is refused, not misread
    server, interface = served
    pcm, sampling_rate = soundfile.read(speech_files[0], dtype="int16")
    signal, _ = audiofile.read(speech_files[0])
    url = f"/stream?sampling_rate={sampling_rate}&win_dur=1&hop_dur=0.5"
    rows = stream_rows(server.url(url + "&format=s16le", "ws"), pcm, 3000)
    assert rows == stream_rows(server.url(url, "ws"), signal, 3000)
    assert len(rows) >= 3
    message, code = closing_error(
        server.url(url, "ws"), [pcm.astype("<f4").tobytes()], end=False
    )
    assert code == 1008
    assert message.startswith("Cannot process a frame: its float samples reach ")
    assert message.endswith("Or send 16-bit PCM with ?format=s16le.")
    # 16-bit bytes read as float32: garbage that must not give rows
    even = pcm[: pcm.size // 2 * 2]
    message, code = closing_error(server.url(url, "ws"), [even.tobytes()])
    assert code == 1008
    assert "integer PCM" in message or "NaN or infinite" in message


@pytest.mark.network
def test_websocket_client_goes_away(served):
    server, _ = served
    with websockets.sync.client.connect(server.url("/stream", "ws")) as ws:
        ws.send(np.zeros(1000, "<f4").tobytes())
    # the server is still fine
    assert httpx.get(server.url("/info")).status_code == 200


@pytest.mark.network
def test_token(guarded, speech_files):
    server = guarded
    for path in ["/", "/info"]:
        response = httpx.get(server.url(path))
        assert response.status_code == 401
        assert "Authorization: Bearer TOKEN" in response.json()["error"]
    assert httpx.get(server.url("/info?token=wrong")).status_code == 401
    assert httpx.get(server.url("/info?token=s3cret")).status_code == 200
    with open(speech_files[0], "rb") as fp:
        data = fp.read()
    assert httpx.post(server.url("/predict"), content=data).status_code == 401
    response = httpx.post(
        server.url("/predict"),
        content=data,
        headers={"Authorization": "Bearer s3cret"},
        timeout=60,
    )
    assert response.status_code == 200
    with pytest.raises(websockets.exceptions.InvalidStatus):
        with websockets.sync.client.connect(server.url("/stream", "ws")):
            pass
    signal = (np.sin(np.arange(40000) / 10) * 0.3).astype("float32")
    rows = stream_rows(server.url("/stream?token=s3cret", "ws"), signal, 16000)
    assert len(rows) == 2


def test_serve_needs_token_beyond_loopback(model_root, capsys):
    assert main(["serve", "--host", "0.0.0.0", "--model", model_root]) == 1
    assert "--host 0.0.0.0 is reachable from other machines: give a --token" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_serve_command(model_root, speech_files):
    port = free_port()
    process = subprocess.Popen(
        [AUDEMO, "serve", "--port", str(port), "--model", model_root],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # it says where it listens and what it serves, once it is ready
        ready, _, _ = select.select([process.stderr], [], [], 60)
        assert ready, "audemo serve printed nothing in 60 s"
        line = process.stderr.readline().decode()
        assert line.startswith(f"audemo serve: http://127.0.0.1:{port}/ serves ")
        assert os.path.basename(model_root) in line and "Ctrl-C stops" in line
        response = httpx.get(f"http://127.0.0.1:{port}/info", timeout=30)
        assert response.json()["model"] == os.path.basename(model_root)
        # a second server on the same port: one line, exit code 1
        busy = subprocess.run(
            [AUDEMO, "serve", "--port", str(port), "--model", model_root],
            capture_output=True,
            timeout=120,
        )
        assert busy.returncode == 1
        lines = busy.stderr.decode().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(
            f"audemo: error: Cannot listen on 127.0.0.1 --port {port}"
        )
        assert "choose another --port" in lines[0]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    # Ctrl-C is how a server stops: no error
    assert process.returncode == 0, stderr


def test_serve_unknown_host(model_root, capsys):
    argv = ["serve", "--host", "no-such-host.invalid", "--token", "t"]
    assert main([*argv, "--model", model_root]) == 1
    assert capsys.readouterr().err.startswith(
        "audemo: error: --host no-such-host.invalid is not an address: "
    )


@pytest.mark.network
def test_hosts_beyond_loopback(model_root):
    # a server on all addresses answers any Host (the token guards it);
    # on one address, only requests for that address
    # --allow-host: the name of a reverse proxy
    for host, allowed, refused in [
        ("0.0.0.0", ["evil.example", "127.0.0.1"], []),
        ("192.0.2.7", ["192.0.2.7", "proxy.example"], ["127.0.0.1", "evil.example"]),
        ("127.0.0.1", ["localhost", "proxy.example"], ["evil.example"]),
    ]:
        app = create_app(
            audemo.Emotion(model_root),
            token="t",
            host=host,
            allow_hosts=["proxy.example"],
        )
        server = Server(app)
        try:
            for name, status in [(n, 200) for n in allowed] + [
                (n, 403) for n in refused
            ]:
                response = httpx.get(
                    server.url("/info?token=t"),
                    headers={"Host": f"{name}:{server.port}"},
                )
                assert response.status_code == status, (host, name)
        finally:
            server.stop()


def test_serve_help_states_limits(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "POST /predict takes at most 52428800 bytes and 1800 s of audio" in text
    assert "hop_dur: 0.01 to 60 s, at least win_dur / 50" in text
    assert "--allow-origin ORIGIN" in text and "--max-seconds S" in text
    assert "--allow-host NAME" in text


@pytest.mark.network
def test_predict_windows(served, speech_files):
    # win_dur and hop_dur as offline processing with windows
    server, interface = served
    with open(speech_files[0], "rb") as fp:
        data = fp.read()
    response = httpx.post(
        server.url("/predict?win_dur=1&hop_dur=0.25"), content=data, timeout=60
    )
    assert response.status_code == 200, response.text
    windowed = audemo.Emotion(interface.model, win_dur=1.0, hop_dur=0.25)
    expected = expected_rows(windowed.process_file(speech_files[0]))
    assert response.json()["rows"] == expected
    assert len(expected) > 5
    for query, message in [
        ("hop_dur=1e-5&win_dur=1", "hop_dur='1e-5' is not valid"),
        ("win_dur=0.01", "win_dur='0.01' is not valid"),
        ("hop_dur=0.5", "hop_dur needs a win_dur"),
        ("windur=1", "Unknown parameter windur: this address takes hop_dur, token"),
    ]:
        response = httpx.post(server.url(f"/predict?{query}"), content=data)
        assert response.status_code == 400
        assert message in response.json()["error"]


@pytest.mark.network
def test_predict_multipart(served, speech_files):
    # curl -F file=@speech.wav: the one file of the form
    server, interface = served
    expected = expected_rows(interface.process_file(speech_files[1]))
    if shutil.which("curl"):
        result = subprocess.run(
            ["curl", "-s", "-F", f"file=@{speech_files[1]}", server.url("/predict")],
            capture_output=True,
            timeout=60,
            env={**os.environ, "no_proxy": "127.0.0.1"},
        )
        assert json.loads(result.stdout)["rows"] == expected
    with open(speech_files[1], "rb") as fp:
        data = fp.read()
    response = httpx.post(
        server.url("/predict"), files={"audio": ("x.wav", data)}, timeout=60
    )
    assert response.json()["rows"] == expected
    response = httpx.post(
        server.url("/predict"),
        files=[("a", ("a.wav", data)), ("b", ("b.wav", data))],
    )
    assert response.status_code == 400
    assert "The form has 2 files: send one audio file" in response.json()["error"]
    assert "--data-binary" in response.json()["error"]


@pytest.mark.network
def test_predict_answers_name_no_server_paths(served, tmp_path):
    # no Python reprs, no temporary folders
    server, _ = served
    response = httpx.post(server.url("/predict"), content=b"RIFF, not audio")
    assert response.status_code == 415
    assert "<_io" not in response.text and "0x" not in response.text
    path = str(tmp_path / "short.wav")
    audiofile.write(path, np.zeros(160, "float32"), 16000)
    with open(path, "rb") as fp:
        response = httpx.post(server.url("/predict"), content=fp.read())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error.startswith("Cannot process the uploaded audio: it has 160 samples")
    assert "/tmp" not in response.text and "upload." not in response.text
    assert tempfile.gettempdir() not in response.text


def wav_with_rate(path, rate):
    r"""A real 16-kHz WAV file whose header claims another sampling rate."""
    audiofile.write(path, np.zeros(3000, "float32"), 16000, bit_depth=16)
    with open(path, "r+b") as fp:
        fp.seek(24)
        fp.write(struct.pack("<II", rate, rate * 2))
    return path


@pytest.mark.network
def test_predict_duration_and_rate_limits(served, tmp_path):
    # an hour of FLAC is a small upload: bounded by duration too
    server, _ = served
    path = str(tmp_path / "hour.flac")
    with soundfile.SoundFile(path, "w", 8000, 1, "PCM_16") as fp:
        for _ in range(60):
            fp.write(np.zeros(8000 * 60, "int16"))
    assert os.path.getsize(path) < 200_000
    with open(path, "rb") as fp:
        response = httpx.post(server.url("/predict"), content=fp.read(), timeout=60)
    assert response.status_code == 413
    assert (
        "The audio is 3600 s long, this server takes at most 1800 s"
        in (response.json()["error"])
    )
    path = wav_with_rate(str(tmp_path / "one-hertz.wav"), 1)
    with open(path, "rb") as fp:
        response = httpx.post(server.url("/predict"), content=fp.read())
    assert response.status_code == 415
    assert "its sampling rate of 1 Hz is outside" in response.json()["error"]


@pytest.mark.network
def test_host_and_origin(served, speech_files):
    server, _ = served
    with open(speech_files[0], "rb") as fp:
        data = fp.read()
    # DNS rebinding: a name that resolves to 127.0.0.1 but is not ours
    response = httpx.get(
        server.url("/info"), headers={"Host": f"evil.example:{server.port}"}
    )
    assert response.status_code == 403
    assert "does not answer requests for host 'evil.example:" in response.text
    assert "--allow-host NAME" in response.text
    assert httpx.get(f"http://localhost:{server.port}/info").status_code == 200
    # what a no-cors fetch of another page sends
    response = httpx.post(
        server.url("/predict"),
        content=data,
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    assert response.status_code == 403
    assert (
        "Web pages from http://evil.example may not use this server"
        in (response.json()["error"])
    )
    # text/plain is refused also without an Origin
    response = httpx.post(
        server.url("/predict"), content=data, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    # its own page
    response = httpx.post(
        server.url("/predict"),
        content=data,
        headers={"Origin": server.url(), "Content-Type": "audio/wav"},
        timeout=60,
    )
    assert response.status_code == 200
    with pytest.raises(websockets.exceptions.InvalidStatus) as error:
        with websockets.sync.client.connect(
            server.url("/stream", "ws"), origin="http://evil.example"
        ):
            pass
    assert error.value.response.status_code == 403
    with websockets.sync.client.connect(
        server.url("/stream", "ws"), origin=server.url()
    ) as ws:
        ws.send("end")


@contextlib.contextmanager
def chromium(human_voice):
    r"""Headless Chromium whose microphone plays a human voice."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={human_voice}",
                "--no-sandbox",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def painted(page, canvas):
    r"""Number of pixels drawn on a canvas of the page."""
    return page.evaluate(
        f"""() => {{
        const c = document.getElementById("{canvas}");
        const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
    }}"""
    )


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.network
def test_page_in_chromium(served, human_voice, tmp_path, speech_files):
    server, interface = served
    with chromium(human_voice) as browser:
        page = browser.new_page()
        failed = []
        page.on(
            "response",
            lambda r: failed.append(r.url) if r.status >= 400 else None,
        )
        page.goto(server.url("/?win_dur=1&hop_dur=0.5"))
        page.wait_for_function(
            "document.getElementById('model').textContent !== ''", timeout=30_000
        )
        # before Start: axes, ticks and quadrant words, and what to do
        assert painted(page, "plane") > 500 and painted(page, "timeline") > 500
        text = page.inner_text("body")
        assert "Served model: " + os.path.basename(interface.model) in text
        assert interface.model not in page.content()
        page.screenshot(path=str(tmp_path / "before.png"), full_page=True)
        page.click("#start")
        page.wait_for_function("window.audemoRows.length >= 4", timeout=60_000)
        rows = page.evaluate("window.audemoRows")
        assert set(rows[0]) >= {"start", "end", "arousal", "dominance", "valence"}
        assert rows[0]["end"] - rows[0]["start"] == 1.0
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        page.click("#stop")
        # a file: charted over time in the windows of the page
        page.set_input_files("#file", speech_files[0])
        page.wait_for_function("window.audemoFileResult !== null", timeout=60_000)
        result = page.evaluate("window.audemoFileResult")
        windowed = audemo.Emotion(interface.model, win_dur=1.0, hop_dur=0.5)
        expected = expected_rows(windowed.process_file(speech_files[0]))
        assert result["rows"] == expected and len(expected) >= 4
        assert page.inner_text("#view") == f"happy.wav ({len(expected)} windows of 1 s)"
        assert page.inner_text("#current").startswith(
            f"happy.wav, mean of {len(expected)} windows: arousal "
        )
        page.screenshot(path=str(tmp_path / "file.png"), full_page=True)
        # no favicon or other request that fails
        assert failed == []
    # the figures of docs/live.rst
    for name, variable in [
        ("live", "AUDEMO_SCREENSHOT"),
        ("file", "AUDEMO_SCREENSHOT_FILE"),
    ]:
        if os.environ.get(variable):
            os.replace(str(tmp_path / f"{name}.png"), os.environ[variable])


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.network
def test_page_shows_server_errors(served, human_voice, tmp_path):
    # a value the server refuses: the error, and Start enabled again
    server, _ = served
    with chromium(human_voice) as browser:
        page = browser.new_page()
        page.goto(server.url("/?win_dur=0.01"))
        page.click("#start")
        page.wait_for_function(
            "document.getElementById('status').textContent.includes('Server:')",
            timeout=60_000,
        )
        status = page.inner_text("#status")
        assert status.startswith("Server: win_dur='0.01' is not valid")
        assert page.is_enabled("#start") and page.is_disabled("#stop")
        page.goto(server.url("/"))
        page.set_input_files("#file", wav_with_rate(str(tmp_path / "one-hertz.wav"), 1))
        page.wait_for_function("window.audemoFileResult !== null", timeout=60_000)
        assert "sampling rate of 1 Hz" in page.inner_text("#status")


class PageServer:
    r"""Another origin: a web page on another port of this machine."""

    def __init__(self, html):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(html.encode())

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.httpd.serve_forever,
            # shutdown() waits up to one poll interval (0.5 s by default)
            kwargs={"poll_interval": 0.05},
            daemon=True,
        ).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def stop(self):
        self.httpd.shutdown()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.network
def test_other_web_pages_cannot_use_the_server(model_root, human_voice):
    # a page the user opens in the same browser, from another origin
    stranger = PageServer("<html><body>another site</body></html>")
    script = """async (url) => {
        const socket = new WebSocket(url);
        return await new Promise((resolve) => {
            socket.onopen = () => { socket.send("end"); };
            socket.onclose = (event) => resolve(event.code);
        });
    }"""
    closed = Server(create_app(audemo.Emotion(model_root)))
    allowing = Server(
        create_app(audemo.Emotion(model_root), allow_origins=[stranger.url])
    )
    try:
        with chromium(human_voice) as browser:
            page = browser.new_page()
            page.goto(stranger.url)
            # refused in the handshake: the socket never opens
            assert page.evaluate(script, closed.url("/stream", "ws")) == 1006
            assert page.evaluate(script, allowing.url("/stream", "ws")) == 1000
    finally:
        closed.stop()
        allowing.stop()
        stranger.stop()
