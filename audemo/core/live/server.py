r"""HTTP and WebSocket server of ``audemo serve``.

* ``POST /predict``: an audio file as request body
  (or as the one file of a ``multipart/form-data`` form),
  JSON with the model, its fingerprint and licence
  and the rows of :meth:`audemo.Emotion.process_file`,
  in windows with ``?win_dur=S&hop_dur=S``
* ``WS /stream``: float32 (or ``?format=s16le``: 16-bit) little-endian
  PCM frames in,
  one JSON row per window out, as :class:`audemo.Stream` gives them
* ``GET /``: a web page that streams the microphone and charts files
* ``GET /info``: model name, fingerprint and licence

Only requests whose ``Host`` is an address the server listens on
and whose ``Origin`` (if a browser sends one) is the server's own
or one of ``allow_origins`` are answered:
other web pages the user opens cannot use the server.
Answers never name the server's files or folders.

Needs the extra ``serve`` (Starlette, uvicorn, websockets),
imported only when a server is made.

"""

from __future__ import annotations

from collections.abc import Sequence
import hmac
import importlib.resources
import io
import ipaddress
import os
import socket
import sys
import tempfile
import urllib.parse

import numpy as np
import soundfile

from audemo.core.define import MIN_SAMPLES
from audemo.core.define import SAMPLING_RATE
from audemo.core.emotion import Emotion
from audemo.core.live.stream import Stream
from audemo.core.model.api import model_info
from audemo.core.process import PCM_FORMATS
from audemo.core.process import check_sampling_rate
from audemo.core.process import float_signal
from audemo.core.utils import import_optional


__all__ = [
    "MAX_BYTES",
    "MAX_OVERLAP",
    "MAX_SECONDS",
    "MIN_HOP_DUR",
    "create_app",
    "is_loopback",
    "limits",
    "serve",
]


MAX_BYTES = 50 * 1024 * 1024
r"""Largest request body of ``POST /predict`` in bytes (50 MiB)."""

MAX_SECONDS = 1800.0
r"""Longest audio of ``POST /predict`` in seconds (30 minutes).

Compressed files hold much more audio than their bytes suggest
(a 181 KB FLAC file of silence is an hour),
so uploads are bounded by duration as well as by bytes.
"""

MIN_HOP_DUR = 0.01
r"""Shortest ``hop_dur`` a client may ask for, in seconds."""

MIN_WIN_DUR = MIN_SAMPLES / SAMPLING_RATE
r"""Shortest ``win_dur`` a client may ask for: what the model needs (25 ms)."""

MAX_WIN_DUR = 60.0
r"""Longest ``win_dur`` and ``hop_dur`` a client may ask for, in seconds."""

MAX_OVERLAP = 50
r"""Largest ``win_dur / hop_dur``: the model runs on each second this often."""

MAX_FRAME_SAMPLES = 10 * 48000
r"""Largest WebSocket frame in samples (10 s at 48 kHz)."""

MIN_STREAM_RATE, MAX_STREAM_RATE = 8000, 192000
r"""Sampling rates in Hz that ``WS /stream`` takes."""

MAX_PENDING_SECONDS = 30.0
r"""Audio in seconds a stream takes in while a window is computed.

Beyond it the server stops reading the WebSocket
until the stream has caught up.
"""

_EXTENSIONS = {"WAV": "wav", "FLAC": "flac", "OGG": "ogg", "MP3": "mp3"}

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

_UPLOAD_NAME = "the uploaded audio"


def limits(*, max_bytes: int = MAX_BYTES, max_seconds: float = MAX_SECONDS) -> str:
    r"""The limits of the server's requests, in words.

    Args:
        max_bytes: largest request body of ``POST /predict``
        max_seconds: longest audio of ``POST /predict``

    Returns:
        one sentence per limit

    Examples:
        >>> print(limits())  # doctest: +NORMALIZE_WHITESPACE
        POST /predict takes at most 52428800 bytes and 1800 s of audio.
        win_dur: 0.025 to 60 s; hop_dur: 0.01 to 60 s, at least win_dur / 50.
        WS /stream: sampling_rate 8000 to 192000 Hz, frames of at most 480000 samples.

    """
    return (
        f"POST /predict takes at most {max_bytes} bytes "
        f"and {max_seconds:g} s of audio.\n"
        f"win_dur: {MIN_WIN_DUR:g} to {MAX_WIN_DUR:g} s; "
        f"hop_dur: {MIN_HOP_DUR:g} to {MAX_WIN_DUR:g} s, "
        f"at least win_dur / {MAX_OVERLAP}.\n"
        f"WS /stream: sampling_rate {MIN_STREAM_RATE} to {MAX_STREAM_RATE} Hz, "
        f"frames of at most {MAX_FRAME_SAMPLES} samples."
    )


def is_loopback(host: str) -> bool:
    r"""Whether a host name or address is only reachable from this machine.

    Args:
        host: ``--host`` of the server

    Returns:
        ``True`` for ``localhost`` and loopback addresses

    Examples:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
        (True, True, True)
        >>> is_loopback("0.0.0.0"), is_loopback("example.org")
        (False, False)

    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(
    interface: Emotion,
    *,
    token: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_seconds: float = MAX_SECONDS,
    host: str = "127.0.0.1",
    allow_origins: Sequence[str] = (),
    allow_hosts: Sequence[str] = (),
    min_hop_dur: float = MIN_HOP_DUR,
):
    r"""The Starlette application of ``audemo serve``.

    Model work runs in worker threads, off the event loop.

    Args:
        interface: emotion interface without ``win_dur``;
            ``POST /predict`` returns its :meth:`~audemo.Emotion.process_file`
        token: if given, every request and WebSocket needs it,
            as ``Authorization: Bearer TOKEN`` header
            or ``token`` query parameter
        max_bytes: largest request body of ``POST /predict``
        max_seconds: longest audio of ``POST /predict`` in seconds
        host: address the server listens on:
            requests whose ``Host`` names another are refused
            (DNS rebinding); a loopback address accepts
            ``localhost``, ``127.0.0.1`` and ``::1``,
            ``0.0.0.0`` and ``::`` accept any
        allow_origins: origins of web pages
            (e.g. ``"https://example.org"``)
            that may use the server besides its own page
        allow_hosts: other names the server answers to,
            e.g. of a reverse proxy that passes its own ``Host`` on
        min_hop_dur: shortest ``hop_dur`` a client may ask for in seconds

    Returns:
        ASGI application

    Raises:
        ImportError: if Starlette is not installed

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> app = create_app(audemo.Emotion(root))
        >>> [route.path for route in app.routes]
        ['/', '/info', '/predict', '/stream']

    """
    applications = import_optional("starlette.applications", purpose="audemo serve")
    concurrency = import_optional("starlette.concurrency", purpose="audemo serve")
    responses = import_optional("starlette.responses", purpose="audemo serve")
    routing = import_optional("starlette.routing", purpose="audemo serve")
    websockets = import_optional("starlette.websockets", purpose="audemo serve")

    info = model_info(interface.model, cache_root=interface.model_cache_root)
    about = {
        "model": public_name(interface.model),
        "fingerprint": interface.fingerprint,
        "license": info["license"],
    }
    page = (
        importlib.resources.files("audemo.core")
        .joinpath("data", "live.html")
        .read_text(encoding="utf-8")
    )
    gate = _Gate(
        host,
        allow_hosts=allow_hosts,
        allow_origins=allow_origins,
        token=token,
    )

    def error(status: int, message: str):
        return responses.JSONResponse({"error": message}, status_code=status)

    async def index(request):
        return responses.HTMLResponse(page)

    async def show_info(request):
        return responses.JSONResponse(about)

    async def predict(request):
        try:
            windows = _windows_from_query(
                request.query_params, _PREDICT_PARAMETERS, min_hop_dur
            )
        except ValueError as ex:
            return error(400, str(ex))
        try:
            body = await _body(request, max_bytes)
            audio = _upload(body, request.headers.get("content-type", ""))
            rows = await concurrency.run_in_threadpool(
                _predict, interface, audio, windows, max_seconds
            )
        except _UploadError as ex:
            return error(ex.status, str(ex))
        return responses.JSONResponse({**about, "rows": rows})

    async def stream(websocket):
        if gate.refusal(websocket):
            # before accept: the handshake fails with HTTP 403
            await websocket.close(code=1008)
            return
        await websocket.accept()
        try:
            live, sampling_rate, dtype = _stream_from_query(
                interface, websocket.query_params, min_hop_dur
            )
        except ValueError as ex:
            await websocket.send_json({"error": str(ex)})
            await websocket.close(code=1008)
            return
        try:
            await _stream_frames(websocket, live, sampling_rate, dtype, concurrency)
        except websockets.WebSocketDisconnect:  # pragma: no cover - timing
            return

    return applications.Starlette(
        routes=[
            routing.Route("/", gate.guard(index, error)),
            routing.Route("/info", gate.guard(show_info, error)),
            routing.Route("/predict", gate.guard(predict, error), methods=["POST"]),
            routing.WebSocketRoute("/stream", stream),
        ]
    )


class _Gate:
    r"""Who may use the server: ``Host``, ``Origin`` and token checks.

    Args:
        host: address the server listens on
        allow_hosts: other names the server answers to
        allow_origins: origins of web pages besides the server's own
        token: token every request needs, if any

    """

    def __init__(
        self,
        host: str,
        *,
        allow_hosts: Sequence[str],
        allow_origins: Sequence[str],
        token: str | None,
    ):
        if host in ("0.0.0.0", "::", ""):
            self.hosts = None  # every address of the machine: the token guards it
        else:
            self.hosts = set(_LOOPBACK_NAMES if is_loopback(host) else [host.lower()])
            self.hosts.update(name.lower() for name in allow_hosts)
        self.origins = {origin.rstrip("/").lower() for origin in allow_origins}
        self.token = token

    def refusal(self, connection) -> tuple[int, str] | None:
        r"""Status and reason to refuse a request, ``None`` to answer it."""
        given = connection.headers.get("host", "")
        name = urllib.parse.urlsplit(f"//{given}").hostname or ""
        if self.hosts is not None and name not in self.hosts:
            return 403, (
                f"This server does not answer requests for host {given!r}: "
                "use the address it listens on, "
                "or start it with --allow-host NAME."
            )
        origin = connection.headers.get("origin")
        own = {f"{scheme}://{given}".lower() for scheme in ("http", "https")}
        if origin is not None and origin.lower() not in own | self.origins:
            return 403, (
                f"Web pages from {origin} may not use this server: "
                "start it with --allow-origin ORIGIN to allow them."
            )
        if self.token is not None and not self._has_token(connection):
            return 401, (
                "This server needs its token: send the header "
                "'Authorization: Bearer TOKEN' or add ?token=TOKEN."
            )
        return None

    def guard(self, handler, error):
        r"""``handler`` of requests, answering refused ones with ``error``."""

        async def guarded(request):
            if refused := self.refusal(request):
                return error(*refused)
            return await handler(request)

        return guarded

    def _has_token(self, connection) -> bool:
        sent = connection.query_params.get("token", "")
        header = connection.headers.get("authorization", "")
        if header.startswith("Bearer "):
            sent = header[len("Bearer ") :]
        return hmac.compare_digest(sent.encode(), self.token.encode())


async def _body(request, max_bytes: int) -> bytearray:
    r"""The body of a request, refused beyond ``max_bytes``."""
    too_large = _UploadError(
        413,
        f"The audio is larger than {max_bytes} bytes: "
        "send a shorter file, or use WS /stream for long audio.",
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise too_large
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > max_bytes:
            raise too_large
    return body


def public_name(model: str) -> str:
    r"""Name of a model that does not tell the server's folders.

    Args:
        model: registered name, URL or folder of a model

    Returns:
        the name or URL, or the last part of a folder

    Examples:
        >>> public_name("/home/me/models/w2v2-L-robust-12/")
        'w2v2-L-robust-12'
        >>> public_name("https://example.org/model.zip")
        'https://example.org/model.zip'

    """
    if urllib.parse.urlsplit(model).scheme in ("http", "https"):
        return model
    return os.path.basename(os.path.normpath(model))


def serve(
    model: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    precision: str = "fp32",
    token: str | None = None,
    model_cache_root: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_seconds: float = MAX_SECONDS,
    allow_origins: Sequence[str] = (),
    allow_hosts: Sequence[str] = (),
):
    r"""Run the server until it is stopped (Ctrl-C).

    Prints the URL it listens on and the model to stderr when it is ready.

    Args:
        model: model reference, see :func:`audemo.download_model`
        host: address to listen on
        port: port to listen on
        precision: ``"fp32"`` or ``"int8"``
        token: token every request needs;
            required if ``host`` is not a loopback address
        model_cache_root: cache folder of downloaded models
        max_bytes: largest request body of ``POST /predict``
        max_seconds: longest audio of ``POST /predict`` in seconds
        allow_origins: origins of other web pages that may use the server
        allow_hosts: other names the server answers to

    Raises:
        ValueError: if ``host`` is not a loopback address and ``token`` is missing,
            or the server cannot listen on ``host`` and ``port``

    """
    check_host(host, token)
    uvicorn = import_optional("uvicorn", purpose="audemo serve")
    listener = _listen(host, port)
    try:
        interface = Emotion(
            model, precision=precision, model_cache_root=model_cache_root
        )
        app = create_app(
            interface,
            token=token,
            max_bytes=max_bytes,
            max_seconds=max_seconds,
            host=host,
            allow_origins=allow_origins,
            allow_hosts=allow_hosts,
        )
        # ready: clients that come before uvicorn runs wait in the backlog
        listener.listen(2048)
        port = listener.getsockname()[1]
        address = f"[{host}]" if ":" in host else host
        print(
            f"audemo serve: http://{address}:{port}/"
            + (" (add ?token=TOKEN)" if token else "")
            + f" serves {public_name(interface.model)} "
            f"(fingerprint {interface.fingerprint[:12]}, {precision}). "
            "Ctrl-C stops.",
            file=sys.stderr,
            flush=True,
        )
        config = uvicorn.Config(app, log_level="warning")
        try:
            uvicorn.Server(config).run(sockets=[listener])
        except KeyboardInterrupt:
            # uvicorn stops on Ctrl-C and raises it again afterwards:
            # stopping is what Ctrl-C asks for, not an error
            pass
    finally:
        listener.close()


def _listen(host: str, port: int) -> socket.socket:
    r"""A socket bound to ``host`` and ``port``, or one clear error."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError as ex:
        raise ValueError(f"--host {host} is not an address: {ex.strerror}.") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as ex:
        listener.close()
        raise ValueError(
            f"Cannot listen on {host} --port {port}: {ex.strerror}. "
            "Another program (or audemo serve) uses it: stop that one "
            "or choose another --port."
        ) from None
    return listener


def check_host(host: str, token: str | None):
    r"""Refuse a server reachable from other machines without a token.

    Args:
        host: address to listen on
        token: token of the server

    Raises:
        ValueError: if ``host`` is not a loopback address and ``token`` is missing

    Examples:
        >>> check_host("0.0.0.0", None)
        Traceback (most recent call last):
        ...
        ValueError: --host 0.0.0.0 is reachable from other machines: give a --token ...

    """
    if not is_loopback(host) and not token:
        raise ValueError(
            f"--host {host} is reachable from other machines: "
            'give a --token (e.g. from `python -c "import secrets; '
            'print(secrets.token_urlsafe())"`) that every request must send, '
            "or serve on 127.0.0.1."
        )


async def _stream_frames(
    websocket, live: Stream, sampling_rate: int, dtype: np.dtype, concurrency
):
    r"""Push the frames of a WebSocket into ``live`` and send its rows.

    A reader task takes frames off the socket
    while a window is computed,
    and the next push gets everything that arrived in the meantime:
    a stream with ``realtime=1`` then skips windows
    instead of falling behind.
    At most ``MAX_PENDING_SECONDS`` of audio wait;
    beyond that the reader pauses,
    and TCP slows the client down.
    Frames that arrived before the end of the stream,
    a disconnect or a bad frame
    are pushed first.
    A frame of the wrong size ends the stream with close code 1003,
    samples the stream refuses (NaN, unscaled integers, too short)
    with 1008, each after a JSON error.

    """
    import asyncio

    frames = _Frames(websocket, dtype, int(MAX_PENDING_SECONDS * sampling_rate))
    reader = asyncio.create_task(frames.read())
    try:
        while True:
            await frames.arrived.wait()
            frames.arrived.clear()
            # no await between the last look at pending and at end:
            # the reader cannot add a frame unseen
            try:
                while (samples := frames.take()) is not None:
                    rows = await concurrency.run_in_threadpool(
                        live.push, samples, sampling_rate
                    )
                    await _send_rows(websocket, rows)
                if frames.end == "close":
                    rows = await concurrency.run_in_threadpool(live.close)
                    await _send_rows(websocket, rows)
                    await websocket.close()
            except ValueError as ex:  # what the stream refuses
                frames.end = 1008, str(ex)
            if isinstance(frames.end, tuple):
                await websocket.send_json({"error": frames.end[1]})
                await websocket.close(code=frames.end[0])
            if frames.end is not None:
                return
    finally:
        reader.cancel()


class _Frames:
    r"""Frames of a WebSocket, taken off it while windows are computed.

    Args:
        websocket: Starlette WebSocket
        dtype: sample type of the frames
        limit: samples that may wait before the reader pauses

    """

    def __init__(self, websocket, dtype: np.dtype, limit: int):
        import asyncio

        self.websocket = websocket
        self.dtype = dtype
        self.limit = limit
        self.pending = []  # frames not pushed yet
        self.waiting = 0  # their samples
        self.end = None  # then "close", "disconnect" or (close code, error message)
        self.arrived = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()

    async def read(self):
        r"""Take frames off the socket until the stream ends."""
        while self.end is None:
            await self.room.wait()
            self.end, frame = _message(await self.websocket.receive(), self.dtype)
            if frame is not None:
                self.pending.append(frame)
                self.waiting += frame.size
                if self.waiting > self.limit:
                    self.room.clear()
            self.arrived.set()

    def take(self) -> np.ndarray | None:
        r"""All frames that wait, joined, ``None`` if none."""
        if not self.pending:
            return None
        samples = np.concatenate(self.pending)
        self.pending.clear()
        self.waiting = 0
        self.room.set()
        return samples


def _message(message: dict, dtype: np.dtype) -> tuple[object, np.ndarray | None]:
    r"""End of the stream a WebSocket message means, or its frame."""
    if message["type"] == "websocket.disconnect":
        return "disconnect", None
    if message.get("bytes") is None:  # text: end of stream
        return "close", None
    if wrong_size := _frame_size_error(message["bytes"], dtype):
        return (1003, wrong_size), None
    frame, refused = _frame(message["bytes"], dtype)
    if refused:
        return (1008, refused), None
    return None, frame


async def _send_rows(websocket, frame):
    r"""Send the rows of ``frame`` as JSON messages."""
    for row in _rows(frame):
        await websocket.send_json(row)


def _frame_size_error(data: bytes, dtype: np.dtype) -> str | None:
    r"""Why a frame has the wrong size for ``dtype``, ``None`` if it fits."""
    if len(data) % dtype.itemsize or len(data) > dtype.itemsize * MAX_FRAME_SAMPLES:
        return (
            f"A frame has {len(data)} bytes: send "
            f"{_FORMAT_NAMES[dtype.str]} little-endian samples "
            f"(a multiple of {dtype.itemsize} bytes), "
            f"at most {MAX_FRAME_SAMPLES} a frame."
        )
    return None


def _frame(data: bytes, dtype: np.dtype) -> tuple[np.ndarray | None, str | None]:
    r"""Float samples of a WebSocket frame, or why they are refused."""
    try:
        frame = float_signal(np.frombuffer(data, dtype=dtype), "a frame")
    except ValueError as ex:  # unscaled integers sent as float32
        return None, f"{ex} Or send 16-bit PCM with ?format=s16le."
    if not np.isfinite(frame).all():
        return None, (
            "A frame has NaN or infinite samples: "
            "send finite samples (full scale -1 to 1)."
        )
    return frame, None


class _UploadError(Exception):
    r"""A request to ``POST /predict`` that cannot be answered, and its status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _upload(body: bytes, content_type: str) -> bytes:
    r"""The audio of a request body: the body, or the file of a form."""
    kind, _, parameters = content_type.partition(";")
    if kind.strip().lower() == "text/plain":
        # what a form or a no-cors fetch of another web page can send
        raise _UploadError(
            415,
            "A body of Content-Type text/plain is not taken: send the audio "
            "with its own type, e.g. curl --data-binary @speech.wav "
            "-H 'Content-Type: audio/wav' URL/predict.",
        )
    if kind.strip().lower() != "multipart/form-data":
        return bytes(body)
    boundary = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip('"')
    files = []
    for part in bytes(body).split(b"--" + boundary.encode())[1:-1]:
        head, _, data = part.partition(b"\r\n\r\n")
        if b"filename=" in head.lower() and data.endswith(b"\r\n"):
            files.append(data[:-2])
    if not boundary or len(files) != 1:
        raise _UploadError(
            400,
            f"The form has {len(files)} files: send one audio file, "
            "as the body (curl --data-binary @speech.wav URL/predict) "
            "or as the one file of a form (curl -F file=@speech.wav URL/predict).",
        )
    return files[0]


def _predict(
    interface: Emotion, body: bytes, windows: dict, max_seconds: float
) -> list[dict]:
    r"""Rows of ``process_file`` of an uploaded file."""
    try:
        info = soundfile.info(io.BytesIO(body))
    except Exception:
        # soundfile's message names a Python object, not the upload
        raise _UploadError(
            415,
            "The request body is not audio that audemo can read: "
            "send a WAV, FLAC, OGG or MP3 file as the body "
            "(curl --data-binary @speech.wav URL/predict).",
        ) from None
    try:
        check_sampling_rate(info.samplerate, _UPLOAD_NAME)
    except ValueError as ex:
        raise _UploadError(415, str(ex)) from None
    seconds = info.frames / info.samplerate
    if seconds > max_seconds:
        raise _UploadError(
            413,
            f"The audio is {seconds:.0f} s long, this server takes at most "
            f"{max_seconds:g} s a request: send a shorter file, "
            "or use WS /stream for long audio.",
        )
    if windows:
        interface = Emotion(**{**interface.arguments, **windows})
    extension = _EXTENSIONS.get(info.format, "wav")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"upload.{extension}")
        with open(path, "wb") as fp:
            fp.write(body)
        try:
            frame = interface.process_file(path)
        except (ValueError, RuntimeError) as ex:
            # the client knows its upload, not our temporary folder
            message = str(ex).replace(f"'{path}'", _UPLOAD_NAME)
            message = message.replace(path, _UPLOAD_NAME).replace(folder, "")
            raise _UploadError(422, message) from None
    return _rows(frame.droplevel("file"))


def _rows(frame) -> list[dict]:
    r"""JSON rows of a frame with ``start`` and ``end`` in seconds."""
    rows = []
    starts = frame.index.get_level_values("start").total_seconds()
    ends = frame.index.get_level_values("end").total_seconds()
    for start, end, values in zip(starts, ends, frame.to_dict("records")):
        row = {"start": float(start), "end": float(end)}
        row.update({name: _number(value) for name, value in values.items()})
        rows.append(row)
    return rows


def _number(value):
    r"""A JSON number: int or float, ``None`` for NaN."""
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if np.isnan(value) else value


_FORMAT_NAMES = {dtype.str: name for name, dtype in PCM_FORMATS.items()}

_PREDICT_PARAMETERS = {"win_dur": None, "hop_dur": None, "token": None}

_STREAM_PARAMETERS = {
    "sampling_rate": 16000,
    "win_dur": 2.0,
    "hop_dur": 0.5,
    "realtime": 0,
    "format": "f32le",
    "token": None,
}

_EXAMPLE_QUERY = "e.g. /stream?sampling_rate=16000&win_dur=2&hop_dur=0.5"


def _windows_from_query(query, parameters: dict, min_hop_dur: float) -> dict:
    r"""``win_dur`` and ``hop_dur`` of a query, within the server's limits.

    Unknown parameters are refused;
    missing ones take their default from ``parameters``
    (``None``: left out of the result).

    """
    unknown = sorted(set(query) - set(parameters))
    if unknown:
        raise ValueError(
            f"Unknown parameter {unknown[0]}: "
            f"this address takes {', '.join(sorted(parameters))}."
        )
    windows = {}
    for name in ("win_dur", "hop_dur"):
        text = query.get(name)
        if text is None:
            if parameters[name] is not None:
                windows[name] = parameters[name]
            continue
        low = MIN_WIN_DUR if name == "win_dur" else min_hop_dur
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= MAX_WIN_DUR:
            raise ValueError(
                f"{name}={text!r} is not valid: give {low:g} to "
                f"{MAX_WIN_DUR:g} seconds, e.g. win_dur=2&hop_dur=0.5."
            )
        windows[name] = value
    if "hop_dur" in windows and "win_dur" not in windows:
        raise ValueError("hop_dur needs a win_dur, e.g. win_dur=2&hop_dur=0.5.")
    if windows.get("hop_dur", np.inf) * MAX_OVERLAP < windows.get("win_dur", 0):
        raise ValueError(
            f"hop_dur={windows['hop_dur']:g} is too short for "
            f"win_dur={windows['win_dur']:g}: give a hop_dur of at least "
            f"win_dur / {MAX_OVERLAP} ({windows['win_dur'] / MAX_OVERLAP:g} s)."
        )
    return windows


def _stream_from_query(
    interface: Emotion, query, min_hop_dur: float
) -> tuple[Stream, int, np.dtype]:
    r"""Stream, sampling rate and sample type from the query of ``WS /stream``."""
    windows = _windows_from_query(query, _STREAM_PARAMETERS, min_hop_dur)
    values = {}
    for name in ("sampling_rate", "realtime"):
        text = query.get(name)
        try:
            values[name] = _STREAM_PARAMETERS[name] if text is None else int(text)
        except ValueError:
            values[name] = -1
        if values[name] < 0 or (name != "realtime" and values[name] == 0):
            raise ValueError(
                f"{name}={text!r} is not valid: give a positive integer, "
                f"{_EXAMPLE_QUERY}."
            )
    if not MIN_STREAM_RATE <= values["sampling_rate"] <= MAX_STREAM_RATE:
        raise ValueError(
            f"sampling_rate={values['sampling_rate']} is not supported: "
            f"send {MIN_STREAM_RATE} to {MAX_STREAM_RATE} Hz, ideally 16000."
        )
    sample_format = query.get("format", _STREAM_PARAMETERS["format"])
    if sample_format not in PCM_FORMATS:
        raise ValueError(
            f"format={sample_format!r} is not valid: give "
            f"{' or '.join(PCM_FORMATS)} (little-endian float32 "
            "or 16-bit PCM samples)."
        )
    live = Stream(interface, realtime=bool(values["realtime"]), **windows)
    return live, values["sampling_rate"], PCM_FORMATS[sample_format]
