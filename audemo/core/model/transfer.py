r"""HTTP transfer of a URL to a file: size cap, deadline, safe redirects."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import ipaddress
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import audeer

from audemo.core.storage import CHUNK_SIZE
from audemo.core.utils import version


MAX_DOWNLOAD_BYTES = 4 * 1024**3
r"""Largest model archive audemo downloads (4 GiB, a few times the default model)."""

DOWNLOAD_DEADLINE = 3600.0
r"""Seconds a download may take in all,
unless ``$AUDEMO_DOWNLOAD_DEADLINE`` sets another value."""

READ_TIMEOUT = 60.0
r"""Seconds a download may wait for the server to send anything."""


class RedirectHandler(urllib.request.HTTPRedirectHandler):
    r"""Follow redirects to ``http(s)://`` only, never from https to http.

    urllib refuses redirects to ``file://`` itself,
    but follows them to ``ftp://``
    and from ``https://`` to ``http://``,
    where the archive could be replaced on the way;
    Zenodo redirects to other hosts of its own over https.

    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old = urllib.parse.urlparse(req.full_url).scheme
        new = urllib.parse.urlparse(newurl).scheme
        if new not in ("http", "https") or (old, new) == ("https", "http"):
            raise RuntimeError(
                f"The server of {req.full_url} redirects to {newurl}: refused "
                f"(audemo follows redirects to http(s) only, "
                f"and never from https to http). "
                f"Download the archive yourself if you trust that address."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Deadline:
    r"""A moment by which every connection of a download must be done.

    urllib's timeout applies to each read of a socket:
    a server that sends one byte at a time
    (status line and headers included)
    keeps a download going as long as it likes,
    and each redirect starts anew.
    Used as a context manager,
    this closes every connection opened through :meth:`handlers`
    when the moment has passed,
    whatever a read is waiting for,
    and refuses to open new ones;
    connecting waits at most what is left.

    Args:
        stop: the moment, in :func:`time.monotonic` seconds

    Examples:
        >>> with Deadline(time.monotonic() + 60) as deadline:
        ...     deadline.passed
        False

    """

    def __init__(self, stop: float):
        self.stop = stop
        self.passed = False
        self._connections = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, stop - time.monotonic()), self._pass)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        r"""Start watching."""
        self._timer.start()
        return self

    def __exit__(self, *args):
        r"""Stop watching."""
        self._timer.cancel()

    def _pass(self):
        with self._lock:
            self.passed = True
            # a connection's socket while it connects (a TLS handshake),
            # then the socket itself: a response keeps reading from it
            # after its connection let it go
            for connection in self._connections:
                for sock in (connection.sock, *connection.watched_sockets):
                    # a shut-down socket ends every read waiting on it
                    # (closed meanwhile by the reader: nothing to end)
                    with contextlib.suppress(OSError, AttributeError):
                        sock.shutdown(socket.SHUT_RDWR)

    def _watch(self, connection: http.client.HTTPConnection):
        with self._lock:
            if self.passed:
                raise TimeoutError("the download's deadline has passed")
            self._connections.append(connection)
        connection.timeout = max(0.001, min(READ_TIMEOUT, self.stop - time.monotonic()))

    def handlers(self) -> list[urllib.request.BaseHandler]:
        r"""Handlers of urllib for http and https, their connections watched."""
        deadline = self

        class Watched:
            watched_sockets = ()

            def connect(self):
                deadline._watch(self)
                super().connect()
                self.watched_sockets = (self.sock,)
                # reads wait as long as ever; the deadline ends them
                self.sock.settimeout(READ_TIMEOUT)

        class HTTPConnection(Watched, http.client.HTTPConnection):
            pass

        class HTTPSConnection(Watched, http.client.HTTPSConnection):
            pass

        class HTTPHandler(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(HTTPConnection, req)

        class HTTPSHandler(urllib.request.HTTPSHandler):
            def https_open(self, req):
                # no context: http.client's default, as urllib's own handler
                return self.do_open(HTTPSConnection, req)

        return [HTTPHandler, HTTPSHandler]


def opener(
    url: str, *, deadline: Deadline | None = None
) -> urllib.request.OpenerDirector:
    r"""URL opener with :class:`RedirectHandler`, without proxy for loopback.

    Args:
        url: URL to open
        deadline: closes the opener's connections when it passes

    Returns:
        opener

    Examples:
        >>> for url in ("http://127.0.0.1:8000/m.zip", "https://zenodo.org/m.zip"):
        ...     handlers = opener(url).handlers
        ...     print(any(isinstance(h, RedirectHandler) for h in handlers))
        True
        True

    """
    host = urllib.parse.urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    handlers = [RedirectHandler, *(deadline.handlers() if deadline else [])]
    if loopback:
        # a proxy cannot reach this machine's own loopback interface
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def download_deadline() -> float:
    r"""Seconds a download may take: ``$AUDEMO_DOWNLOAD_DEADLINE`` or the default.

    Returns:
        seconds, :data:`DOWNLOAD_DEADLINE` unless the variable is set

    Raises:
        ValueError: if the variable is not a number

    Examples:
        >>> download_deadline()
        3600.0

    """
    value = os.environ.get("AUDEMO_DOWNLOAD_DEADLINE")
    try:
        return float(value) if value else DOWNLOAD_DEADLINE
    except ValueError:
        raise ValueError(
            f"AUDEMO_DOWNLOAD_DEADLINE must be a number of seconds, not '{value}'."
        ) from None


@dataclasses.dataclass
class _Transfer:
    r"""A download under way, for its limits and error messages."""

    url: str
    model: str
    hint: str
    deadline: float
    stop: float
    received: int = 0
    expected: int | None = None

    def check_limits(self):
        if max(self.received, self.expected or 0) > MAX_DOWNLOAD_BYTES:
            raise RuntimeError(
                f"The archive of model '{self.model}' at {self.url} is larger "
                f"than {MAX_DOWNLOAD_BYTES} bytes: refused. "
                f"Nothing was cached. {self.hint}"
            )

    def too_slow(self) -> RuntimeError:
        return RuntimeError(
            f"Download of model '{self.model}' from {self.url} took longer "
            f"than {self.deadline:g} s (received {self.received} of "
            f"{self.expected or 'unknown'} bytes): stopped. "
            f"Nothing was cached. Set $AUDEMO_DOWNLOAD_DEADLINE "
            f"(seconds) for a slow connection. {self.hint}"
        )

    def interrupted(self, reason: object = None) -> RuntimeError:
        because = f" ({reason})" if reason is not None else ""
        total = "unknown" if self.expected is None else self.expected
        return RuntimeError(
            f"Download of model '{self.model}' from {self.url} was interrupted "
            f"after {self.received} of {total} bytes{because}. "
            f"Nothing was cached; run again to retry."
        )


def download_file(url: str, path: str, *, model: str, folder: str, verbose: bool):
    r"""Download a URL to a file within size and time limits.

    The download may last :func:`download_deadline` seconds,
    connecting, redirects and headers included
    (see :class:`Deadline`),
    wait :data:`READ_TIMEOUT` seconds for the server to send anything
    and hold at most :data:`MAX_DOWNLOAD_BYTES`.
    Redirects are followed as :class:`RedirectHandler` allows.

    Args:
        url: ``http(s)://`` URL
        path: file to write
        model: model reference, for messages
        folder: folder in the cache, for error messages
        verbose: show a progress bar

    Raises:
        RuntimeError: if the download fails, is interrupted,
            too large or too slow, or redirected elsewhere
        ValueError: if ``$AUDEMO_DOWNLOAD_DEADLINE`` is not a number

    """
    deadline = download_deadline()
    transfer = _Transfer(
        url=url,
        model=model,
        hint=(
            f"Check the network connection, "
            f"or download {url} yourself, extract it "
            f"and pass the folder as model (or copy it to {folder})."
        ),
        deadline=deadline,
        stop=time.monotonic() + deadline,
    )
    request = urllib.request.Request(url, headers={"User-Agent": f"audemo/{version()}"})
    try:
        with (
            Deadline(transfer.stop) as watch,
            opener(url, deadline=watch).open(request, timeout=READ_TIMEOUT) as response,
        ):
            length = response.headers.get("Content-Length")
            transfer.expected = int(length) if length else None
            _receive(response, path, transfer, verbose=verbose)
    except urllib.error.HTTPError as ex:
        raise RuntimeError(
            f"Cannot download model '{model}' from {url}: "
            f"HTTP {ex.code} {ex.reason}. {transfer.hint}"
        ) from ex
    except (OSError, http.client.HTTPException) as ex:
        if watch.passed:  # its connection was closed, whatever the error
            raise transfer.too_slow() from ex
        reason = getattr(ex, "reason", None) or ex
        if transfer.received or isinstance(ex, http.client.IncompleteRead):
            raise transfer.interrupted(reason) from ex
        raise RuntimeError(
            f"Cannot download model '{model}' from {url}: {reason}. {transfer.hint}"
        ) from ex
    if watch.passed:  # a body cut short by the deadline reads as its end
        raise transfer.too_slow()
    if transfer.expected is not None and transfer.received != transfer.expected:
        raise transfer.interrupted()


def _receive(response, path: str, transfer: _Transfer, *, verbose: bool):
    r"""Write what the server sends to a file, checking the limits."""
    with (
        open(path, "wb") as fp,
        audeer.progress_bar(
            total=transfer.expected,
            desc=f"Download {transfer.model}"[:60],
            disable=not verbose,
        ) as bar,
    ):
        while True:
            transfer.check_limits()
            # read1 returns what has arrived, so the size is checked
            # as it grows (the deadline closes the connection itself)
            block = response.read1(CHUNK_SIZE)
            if not block:
                break
            fp.write(block)
            transfer.received += len(block)
            bar.update(len(block))
