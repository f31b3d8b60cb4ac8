"""Framing on pipes and sockets: an 8-byte big-endian length, then a JSON body.

Used between the trusted process and the zygote (a Unix socket that also carries file
descriptors) and between a sandboxed child and the trusted process (a pipe). Whatever
arrives from a child is untrusted: lengths are capped before anything is read, and a
body is only ever parsed as strict JSON (grader.sandbox.codec), never unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import struct
import time
from typing import Any

from grader.sandbox.codec import MAX_MESSAGE_BYTES, CodecError, TooLarge, loads_json

HEADER = struct.Struct(">Q")
MAX_CONTROL_BYTES = 1 << 30  # job messages from the trusted process: sources and inputs


class Timeout(Exception):
    """No complete message before the deadline."""


class Closed(Exception):
    """The other end closed the stream (a child that exited or crashed)."""


def frame(body: Any) -> bytes:
    data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    return HEADER.pack(len(data)) + data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class PipeReader:
    """Reads framed messages from a child's pipe, each under a wall-clock deadline."""

    def __init__(self, fd: int, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        os.set_blocking(fd, False)

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout
        ready, _, _ = select.select([self.fd], [], [], left)
        if not ready:
            raise Timeout
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            raise Closed
        self._buffer += chunk

    def read(self, deadline: float) -> Any:
        """The next message as parsed JSON. Timeout, Closed, TooLarge or CodecError."""
        while len(self._buffer) < HEADER.size:
            self._fill(deadline)
        (length,) = HEADER.unpack_from(self._buffer)
        if length > self.max_bytes:
            raise TooLarge(f"output too large ({length / 1e6:.1f} MB, limit {self.max_bytes / 1e6:.0f} MB)")
        while len(self._buffer) < HEADER.size + length:
            self._fill(deadline)
        body = bytes(self._buffer[HEADER.size:HEADER.size + length])
        del self._buffer[:HEADER.size + length]
        return loads_json(body, max_bytes=self.max_bytes)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def send_message(sock: socket.socket, body: Any, fds: list[int] | tuple[int, ...] = ()) -> None:
    """One framed message on a Unix stream socket; `fds` ride with its first byte."""
    data = frame(body)
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


class SocketReceiver:
    """Framed messages and the descriptors sent with them, from a Unix stream socket.

    A message says how many descriptors it carries ("nfds"); they arrive no later than
    its first byte, in order, so they are handed out in order as messages complete.
    """

    def __init__(self, sock: socket.socket, max_bytes: int = MAX_CONTROL_BYTES) -> None:
        self.sock = sock
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._fds: list[int] = []

    def receive(self) -> list[tuple[Any, list[int]]]:
        """Read what is there (blocks for at least one chunk); the messages completed.

        Raises Closed at end of stream.
        """
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 20, 64)
        self._fds.extend(fds)
        if not data:
            raise Closed
        self._buffer += data
        messages: list[tuple[Any, list[int]]] = []
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > self.max_bytes:
                raise CodecError("control message too large")
            if len(self._buffer) < HEADER.size + length:
                break
            body = json.loads(bytes(self._buffer[HEADER.size:HEADER.size + length]))
            del self._buffer[:HEADER.size + length]
            count = int(body.get("nfds", 0)) if isinstance(body, dict) else 0
            taken, self._fds = self._fds[:count], self._fds[count:]
            messages.append((body, taken))
        return messages
