"""A loopback TCP proxy that a test can cut, to partition an engine from PostgreSQL.

    proxy = TcpProxy(pg_port); proxy.start()   # engine connects to 127.0.0.1:proxy.port
    proxy.cut()                              # from now on bytes go nowhere, as in a partition

After `cut()` open connections stay open but carry nothing either way and new ones are
accepted and left silent: the engine sees timeouts, not refusals, as behind a dead link.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def start(self) -> None:
        self._listener.listen(64)
        self._spawn(self._accept)

    def cut(self) -> None:
        self._cut.set()

    def heal(self) -> None:
        """New connections go through again (the ones open during the cut stay dead)."""
        with self._lock:
            dead = list(self._sockets)
        for sock in dead:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._cut.clear()

    def close(self) -> None:
        """Stop accepting, drop every connection and wait for the proxy's threads."""
        self._closed.set()
        for sock in (self._listener, *self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept or recv
            except OSError:
                pass
        self._listener.close()
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            for sock in self._sockets:
                sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self._cut.is_set():
                continue  # accepted and left silent
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.append(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                self._spawn(self._pipe, src, dst)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if self._cut.is_set():
                continue  # dropped on the floor
            try:
                dst.sendall(data)
            except OSError:
                return
