import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
import websockets.sync.client

import audiofile

import audemo
from audemo.core.cli import main
from audemo.core.server import create_app


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


def test_predict_equals_process_file(served, speech_files, human_voice):
    server, interface = served
    for path in [*speech_files, human_voice]:
        with open(path, "rb") as fp:
            response = httpx.post(server.url("/predict"), content=fp.read(), timeout=60)
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["model"] == interface.model
        assert result["fingerprint"] == interface.fingerprint
        assert "license" in result
        expected = expected_rows(interface.process_file(path))
        assert result["rows"] == expected
        assert len(result["rows"]) == 1


def test_predict_flac(served, speech_files, tmp_path):
    server, interface = served
    signal, sampling_rate = audiofile.read(speech_files[0])
    path = str(tmp_path / "speech.flac")
    audiofile.write(path, signal, sampling_rate)
    with open(path, "rb") as fp:
        response = httpx.post(server.url("/predict"), content=fp.read(), timeout=60)
    assert response.json()["rows"] == expected_rows(interface.process_file(path))


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
    with websockets.sync.client.connect(url, max_size=None) as ws:
        for begin in range(0, signal.size, chunk):
            ws.send(signal[begin : begin + chunk].astype("<f4").tobytes())
        if end:
            ws.send("end")
            for message in ws:
                rows.append(json.loads(message))
        else:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(rows) < 1:
                rows.append(json.loads(ws.recv(timeout=30)))
    return rows


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


def test_websocket_realtime_catches_up(served):
    # frames of one hop each: a server that pushed frame by frame would
    # compute every window (each the newest of its push) and fall behind;
    # windows of 0.5 ms hop take longer to compute than to arrive
    server, interface = served
    rng = np.random.default_rng(5)
    signal = (rng.standard_normal(32000) * 0.1).astype("float32")
    query = "realtime=1&win_dur=0.05&hop_dur=0.0005"
    rows = stream_rows(server.url(f"/stream?{query}", "ws"), signal, 8)
    stream = audemo.Stream(interface, win_dur=0.05, hop_dur=0.0005)
    expected = expected_rows(stream.push(signal, 16000))
    assert len(expected) == 3901
    skipped = sum(row["skipped"] for row in rows)
    assert skipped > 0
    assert len(rows) + skipped == len(expected)
    # the rows computed are those of the stream, skipped ones left out
    by_start = {row["start"]: row for row in expected}
    for row in rows:
        assert {k: v for k, v in row.items() if k != "skipped"} == by_start[
            row["start"]
        ]


@pytest.mark.parametrize(
    "query, message",
    [
        ("sampling_rate=abc", "sampling_rate='abc' is not valid"),
        ("win_dur=0", "win_dur='0' is not valid"),
        ("hop_dur=-1", "hop_dur='-1' is not valid"),
        ("sampling_rate=100", "sampling_rate=100 is not supported"),
        ("win_dur=100", "at most 60 seconds"),
    ],
)
def test_websocket_bad_query(served, query, message):
    server, _ = served
    with websockets.sync.client.connect(server.url(f"/stream?{query}", "ws")) as ws:
        assert message in json.loads(ws.recv(timeout=10))["error"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as error:
            ws.recv(timeout=10)
    assert error.value.rcvd.code == 1008


def test_websocket_bad_frame(served):
    server, _ = served
    with websockets.sync.client.connect(server.url("/stream", "ws")) as ws:
        ws.send(b"\x00\x01\x02")
        assert "multiple of 4 bytes" in json.loads(ws.recv(timeout=10))["error"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as error:
            ws.recv(timeout=10)
    assert error.value.rcvd.code == 1003


def test_websocket_client_goes_away(served):
    server, _ = served
    with websockets.sync.client.connect(server.url("/stream", "ws")) as ws:
        ws.send(np.zeros(1000, "<f4").tobytes())
    # the server is still fine
    assert httpx.get(server.url("/info")).status_code == 200


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


def test_serve_command(model_root, speech_files):
    port = free_port()
    process = subprocess.Popen(
        [AUDEMO, "serve", "--port", str(port), "--model", model_root],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/info")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                assert process.poll() is None, process.communicate()
                time.sleep(0.2)
        assert response.json()["model"] == model_root
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode in (0, 130)


def test_page_in_chromium(served, human_voice, tmp_path, speech_files):
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    server, interface = served
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
        page = browser.new_page()
        page.goto(server.url("/?win_dur=1&hop_dur=0.5"))
        page.click("#start")
        page.wait_for_function("window.audemoRows.length >= 4", timeout=60_000)
        rows = page.evaluate("window.audemoRows")
        assert set(rows[0]) >= {"start", "end", "arousal", "dominance", "valence"}
        assert rows[0]["end"] - rows[0]["start"] == 1.0
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
        page.click("#stop")
        page.set_input_files("#file", speech_files[0])
        page.wait_for_function("window.audemoFileResult !== null", timeout=60_000)
        result = page.evaluate("window.audemoFileResult")
        assert result["rows"] == expected_rows(interface.process_file(speech_files[0]))
        browser.close()
    if os.environ.get("AUDEMO_SCREENSHOT"):
        os.replace(str(tmp_path / "live.png"), os.environ["AUDEMO_SCREENSHOT"])
