r"""HTTP and WebSocket server of ``audemo serve``.

* ``POST /predict``: an audio file as request body,
  JSON with the model, its fingerprint and licence
  and the rows of :meth:`audemo.Emotion.process_file`
* ``WS /stream``: float32 little-endian PCM frames in,
  one JSON row per window out, as :class:`audemo.Stream` gives them
* ``GET /``: a web page that streams the microphone
* ``GET /info``: model, fingerprint and licence

Needs the extra ``serve`` (Starlette, uvicorn, websockets),
imported only when a server is made.

"""

from __future__ import annotations

import hmac
import importlib.resources
import io
import ipaddress
import os
import tempfile

import numpy as np
import soundfile

from audemo.core.emotion import Emotion
from audemo.core.model import model_info
from audemo.core.stream import Stream
from audemo.core.utils import import_optional


__all__ = ["MAX_BYTES", "create_app", "is_loopback", "serve"]


MAX_BYTES = 50 * 1024 * 1024
r"""Largest request body of ``POST /predict`` in bytes (50 MiB)."""

MAX_FRAME_SAMPLES = 10 * 48000
r"""Largest WebSocket frame in samples (10 s at 48 kHz)."""

MAX_PENDING_SECONDS = 30.0
r"""Audio in seconds a stream takes in while a window is computed.

Beyond it the server stops reading the WebSocket
until the stream has caught up.
"""

_EXTENSIONS = {"WAV": "wav", "FLAC": "flac", "OGG": "ogg", "MP3": "mp3"}


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
        "model": interface.model,
        "fingerprint": interface.fingerprint,
        "license": info["license"],
    }
    page = (
        importlib.resources.files("audemo.core")
        .joinpath("data", "live.html")
        .read_text(encoding="utf-8")
    )

    def error(status: int, message: str):
        return responses.JSONResponse({"error": message}, status_code=status)

    def authorized(connection) -> bool:
        if token is None:
            return True
        given = connection.query_params.get("token", "")
        header = connection.headers.get("authorization", "")
        if header.startswith("Bearer "):
            given = header[len("Bearer ") :]
        return hmac.compare_digest(given.encode(), token.encode())

    def unauthorized():
        return error(
            401,
            "This server needs its token: send the header "
            "'Authorization: Bearer TOKEN' or add ?token=TOKEN.",
        )

    async def index(request):
        if not authorized(request):
            return unauthorized()
        return responses.HTMLResponse(page)

    async def show_info(request):
        if not authorized(request):
            return unauthorized()
        return responses.JSONResponse(about)

    async def predict(request):
        if not authorized(request):
            return unauthorized()
        too_large = (
            f"The audio is larger than {max_bytes} bytes: "
            "send a shorter file, or use WS /stream for long audio."
        )
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            return error(413, too_large)
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > max_bytes:
                return error(413, too_large)
        try:
            rows = await concurrency.run_in_threadpool(_predict, interface, body)
        except ValueError as ex:
            return error(415, str(ex))
        return responses.JSONResponse({**about, "rows": rows})

    async def stream(websocket):
        if not authorized(websocket):
            await websocket.close(code=1008, reason="token needed")
            return
        await websocket.accept()
        try:
            live, sampling_rate = _stream_from_query(interface, websocket.query_params)
        except ValueError as ex:
            await websocket.send_json({"error": str(ex)})
            await websocket.close(code=1008)
            return
        try:
            await _stream_frames(websocket, live, sampling_rate, concurrency)
        except websockets.WebSocketDisconnect:  # pragma: no cover - timing
            return

    return applications.Starlette(
        routes=[
            routing.Route("/", index),
            routing.Route("/info", show_info),
            routing.Route("/predict", predict, methods=["POST"]),
            routing.WebSocketRoute("/stream", stream),
        ]
    )


def serve(
    model: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    precision: str = "fp32",
    token: str | None = None,
    model_cache_root: str | None = None,
    max_bytes: int = MAX_BYTES,
):
    r"""Run the server until it is stopped (Ctrl-C).

    Args:
        model: model reference, see :func:`audemo.download_model`
        host: address to listen on
        port: port to listen on
        precision: ``"fp32"`` or ``"int8"``
        token: token every request needs;
            required if ``host`` is not a loopback address
        model_cache_root: cache folder of downloaded models
        max_bytes: largest request body of ``POST /predict``

    Raises:
        ValueError: if ``host`` is not a loopback address and ``token`` is missing

    """
    check_host(host, token)
    uvicorn = import_optional("uvicorn", purpose="audemo serve")
    interface = Emotion(model, precision=precision, model_cache_root=model_cache_root)
    app = create_app(interface, token=token, max_bytes=max_bytes)
    uvicorn.run(app, host=host, port=port, log_level="warning")


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


async def _stream_frames(websocket, live: Stream, sampling_rate: int, concurrency):
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

    """
    import asyncio

    pending = []  # frames not pushed yet
    waiting = 0  # their samples
    end = None  # then "close", "disconnect" or an error message
    arrived, room = asyncio.Event(), asyncio.Event()
    room.set()
    limit = int(MAX_PENDING_SECONDS * sampling_rate)

    async def read():
        nonlocal waiting, end
        while end is None:
            await room.wait()
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                end = "disconnect"
            elif message.get("bytes") is None:  # text: end of stream
                end = "close"
            elif len(message["bytes"]) % 4 or (
                len(message["bytes"]) > 4 * MAX_FRAME_SAMPLES
            ):
                end = (
                    f"A frame has {len(message['bytes'])} bytes: send float32 "
                    f"little-endian samples (a multiple of 4 bytes), "
                    f"at most {MAX_FRAME_SAMPLES} a frame."
                )
            else:
                pending.append(np.frombuffer(message["bytes"], dtype="<f4"))
                waiting += pending[-1].size
                if waiting > limit:
                    room.clear()
            arrived.set()

    reader = asyncio.create_task(read())
    try:
        while True:
            await arrived.wait()
            arrived.clear()
            # no await between the last look at pending and at end:
            # the reader cannot add a frame unseen
            while pending:
                samples = np.concatenate(pending)
                pending.clear()
                waiting = 0
                room.set()
                frame = await concurrency.run_in_threadpool(
                    live.push, samples, sampling_rate
                )
                for row in _rows(frame):
                    await websocket.send_json(row)
            if end is None:
                continue
            if end == "close":
                frame = await concurrency.run_in_threadpool(live.close)
                for row in _rows(frame):
                    await websocket.send_json(row)
                await websocket.close()
            elif end != "disconnect":
                await websocket.send_json({"error": end})
                await websocket.close(code=1003)
            return
    finally:
        reader.cancel()


def _predict(interface: Emotion, body: bytes) -> list[dict]:
    r"""Rows of ``process_file`` of an uploaded file."""
    try:
        info = soundfile.info(io.BytesIO(bytes(body)))
    except Exception as ex:
        raise ValueError(
            f"The request body is not audio that audemo can read ({ex}): "
            "send a WAV, FLAC, OGG or MP3 file."
        ) from None
    extension = _EXTENSIONS.get(info.format, "wav")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"upload.{extension}")
        with open(path, "wb") as fp:
            fp.write(body)
        frame = interface.process_file(path)
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


def _stream_from_query(interface: Emotion, query) -> tuple[Stream, int]:
    r"""Stream and sampling rate from the query of ``WS /stream``."""
    values = {}
    for name, kind, default in (
        ("sampling_rate", int, 16000),
        ("win_dur", float, 2.0),
        ("hop_dur", float, 0.5),
        ("realtime", int, 0),
    ):
        text = query.get(name)
        try:
            values[name] = default if text is None else kind(text)
        except ValueError:
            values[name] = None
        if (
            values[name] is None
            or values[name] < 0
            or (name != "realtime" and values[name] == 0)
        ):
            raise ValueError(
                f"{name}={text!r} is not valid: give a positive "
                f"{'integer' if kind is int else 'number'}, "
                f"e.g. /stream?sampling_rate=16000&win_dur=2&hop_dur=0.5."
            )
    if not 8000 <= values["sampling_rate"] <= 192000:
        raise ValueError(
            f"sampling_rate={values['sampling_rate']} is not supported: "
            "send 8000 to 192000 Hz, ideally 16000."
        )
    if values["win_dur"] > 60 or values["hop_dur"] > 60:
        raise ValueError("win_dur and hop_dur must be at most 60 seconds.")
    live = Stream(
        interface,
        win_dur=values["win_dur"],
        hop_dur=values["hop_dur"],
        realtime=bool(values["realtime"]),
    )
    return live, values["sampling_rate"]
