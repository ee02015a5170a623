"""The Socket Mode side of the fake Slack: a small WebSocket server on the standard library.

``FakeSlack`` (tests/fakeslack.py) answers ``apps.connections.open`` with the ``ws://`` URL of
this server. Like Slack, it greets every connection with ``{"type": "hello", …}`` (whose
``connection_info.app_id`` names the app), pushes envelopes the test asks for, and records
each ``{"envelope_id": …}`` ack. It can also misbehave:

    socket.push("slash_commands", payload)   # → envelope id; the ack lands in ``acks``
    socket.wait_ack(envelope_id)             # the ack's body, or AssertionError after a timeout
    socket.drop()                            # cut every open connection, no close frame
    socket.stall()                           # keep connections open but go silent: no pongs,
                                             # nothing read (a half-open connection)

Written on the standard library (not ``websockets``) so that a stalled connection is really
silent: a library answers pings by itself. Frames are small and unfragmented, as Slack's are.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WAIT = (
    30.0  # seconds a test waits at most for something that should happen at once (a loaded machine)
)

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, data: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(data)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + data


def _read_exact(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    b1, b2 = _read_exact(sock, 2)
    opcode, masked, n = b1 & 0x0F, b2 & 0x80, b2 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", _read_exact(sock, 2))
    elif n == 127:
        (n,) = struct.unpack("!Q", _read_exact(sock, 8))
    mask = _read_exact(sock, 4) if masked else b"\0\0\0\0"
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(_read_exact(sock, n)))
    return opcode, data


@dataclass
class _Conn:
    sock: socket.socket
    number: int
    stalled: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, opcode: int, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(_frame(opcode, data))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@dataclass
class FakeSocket:
    app_id: str = "A000"
    host: str = "127.0.0.1"
    port: int = 0
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope id → ack body
    pushed: list[dict[str, Any]] = field(default_factory=list)
    pings: int = 0  # pings received from clients
    connections_made: int = 0
    _open: list[_Conn] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _listener: socket.socket | None = None
    _closed: bool = False

    def start(self) -> FakeSocket:
        listener = socket.create_server((self.host, 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True, name="fake-socket").start()
        return self

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.close()
        self.drop()

    def url(self, ticket: int) -> str:
        # Slack's URLs carry the app id too: wss://wss-primary.slack.com/link/?ticket=…&app_id=…
        return f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # --- what tests call -------------------------------------------------------------------

    def wait_connected(self, count: int = 1, timeout: float = WAIT) -> None:
        """Until ``count`` connections in total have said hello (and one is open)."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self.connections_made >= count and self._live(), timeout
            )
        assert ok, f"no Socket Mode connection #{count} within {timeout}s"

    def push(
        self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None, **extra: Any
    ) -> str:
        """Send an envelope on the newest open connection; returns its envelope id."""
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind == "slash_commands",
            **extra,
        }
        self.wait_connected()
        with self._changed:
            conn = self._live()[-1]
            self.pushed.append(envelope)
        conn.send(OP_TEXT, json.dumps(envelope).encode())
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = WAIT) -> dict[str, Any]:
        with self._changed:
            ok = self._changed.wait_for(lambda: envelope_id in self.acks, timeout)
        assert ok, f"envelope {envelope_id} was not acknowledged within {timeout}s"
        return self.acks[envelope_id]

    def drop(self) -> None:
        """Cut every open connection without a close frame (a network failure)."""
        with self._changed:
            conns, self._open = self._open, []
            self._changed.notify_all()
        for conn in conns:
            conn.kill()

    def stall(self) -> None:
        """Open connections stay open but go silent: nothing read, no pong, nothing sent."""
        with self._changed:
            for conn in self._open:
                conn.stalled = True

    # --- the server ------------------------------------------------------------------------

    def _live(self) -> list[_Conn]:
        return [c for c in self._open if not c.stalled]

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closed:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _handshake(self, sock: socket.socket) -> bool:
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            if not chunk or len(raw) > 16_384:
                return False
            raw += chunk
        headers = {}
        for line in raw.decode("latin-1").split("\r\n")[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        return True

    def _serve(self, sock: socket.socket) -> None:
        if not self._handshake(sock):
            sock.close()
            return
        with self._changed:
            self.connections_made += 1
            conn = _Conn(sock, self.connections_made)
            self._open.append(conn)
        hello = {
            "type": "hello",
            "num_connections": 1,
            "connection_info": {"app_id": self.app_id},
            "debug_info": {"host": "fake"},
        }
        conn.send(OP_TEXT, json.dumps(hello).encode())
        with self._changed:
            self._changed.notify_all()
        try:
            self._read(conn)
        except (ConnectionError, OSError):
            pass
        finally:
            with self._changed:
                if conn in self._open:
                    self._open.remove(conn)
                self._changed.notify_all()
            conn.kill()

    def _read(self, conn: _Conn) -> None:
        while True:
            if conn.stalled:
                # A half-open connection: nothing is read or answered until it is cut.
                while conn.stalled and conn in self._open:
                    threading.Event().wait(0.05)
                return
            readable, _, _ = select.select([conn.sock], [], [], 0.1)
            if not readable:
                continue
            opcode, data = _read_frame(conn.sock)
            if opcode == OP_PING:
                with self._changed:
                    self.pings += 1
                    self._changed.notify_all()
                if not conn.stalled:
                    conn.send(OP_PONG, data)
            elif opcode == OP_CLOSE:
                conn.send(OP_CLOSE, data[:2])
                return
            elif opcode == OP_TEXT:
                body = json.loads(data)
                if isinstance(body, dict) and "envelope_id" in body:
                    with self._changed:
                        self.acks.setdefault(str(body["envelope_id"]), body)
                        self._changed.notify_all()
