"""One thread serves every HTTP listener of the process: a `selectors` loop with timers.

Hundreds of nodes share this thread (no thread per connection): connections are non-blocking, requests
are parsed incrementally, and a late answer (delay fault) is a timer, a frozen one simply never comes.
Other threads talk to the loop only through `call_soon()`.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable

from simnode.httpwire import HttpParseError, Request, Response, encode_response, parse_request

log = logging.getLogger("simnode.loop")
Handler = Callable[[Request], Response]
IDLE_TIMEOUT_S = 60.0  # WildFly's no-request-timeout
MAX_FROZEN_BUFFER = 1024 * 1024


class Timer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._calls: collections.deque[Callable[[], None]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, self._drain_wakeups)
        self._running = False
        self.thread: threading.Thread | None = None
        self.call_later(5.0, self._sweep_idle)
        self.connections: set[Connection] = set()

    # ---- scheduling -------------------------------------------------------------------------------

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Loop thread only."""
        timer = Timer(time.monotonic() + max(0.0, delay), callback)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        return timer

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Any thread: run `callback` on the loop thread."""
        self._calls.append(callback)
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    def _drain_wakeups(self, _mask: int) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    # ---- running ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._running = True
        self.thread = threading.Thread(target=self.run, name="http-loop", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._running = False
        self.call_soon(lambda: None)

    def run(self) -> None:
        self._running = True
        while self._running:
            timeout = 1.0
            if self._timers:
                timeout = min(timeout, max(0.0, self._timers[0][0] - time.monotonic()))
            for key, mask in self.selector.select(timeout):
                self._guard(lambda: key.data(mask))
            self._run_timers()
            while self._calls:
                self._guard(self._calls.popleft())

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self._guard(timer.callback)

    @staticmethod
    def _guard(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            log.exception("http loop: callback failed")

    def _sweep_idle(self) -> None:
        cutoff = time.monotonic() - IDLE_TIMEOUT_S
        for conn in list(self.connections):
            if not conn.busy and conn.last_active < cutoff:
                conn.close()
        self.call_later(5.0, self._sweep_idle)


class Listener:
    """A listening socket whose connections are answered by `handler`. Loop thread only."""

    def __init__(self, loop: Loop, port: int, handler: Handler, name: str, host: str = "0.0.0.0") -> None:
        self.loop, self.port, self.handler, self.name, self.host = loop, port, handler, name, host
        self.sock: socket.socket | None = None
        self.connections: set[Connection] = set()
        self.accepted = 0  # connections accepted since start (a balancer that reuses them opens few)

    @property
    def is_open(self) -> bool:
        return self.sock is not None

    def open(self) -> None:
        if self.sock is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise OSError(f"{self.name}: cannot listen on {self.host}:{self.port}: {exc}") from exc
        sock.setblocking(False)
        self.loop.selector.register(sock, selectors.EVENT_READ, self._accept)
        self.sock = sock

    def close(self, *, abort: bool = False, graceful: bool = False) -> None:
        """Stop listening (connects are refused) and close every connection: at once, with a reset
        (`abort`, a process dying), or `graceful`ly (idle ones now, busy ones after their answer)."""
        sock, self.sock = self.sock, None
        if sock is not None:
            self.loop.selector.unregister(sock)
            sock.close()
        for conn in list(self.connections):
            if graceful and conn.busy:
                conn.closing = True
            else:
                conn.close(abort=abort)

    def _accept(self, _mask: int) -> None:
        if self.sock is None:
            return
        for _ in range(64):
            try:
                sock, _addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("%s: accept failed: %s", self.name, exc)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted += 1
            Connection(self, sock)


class Connection:
    __slots__ = (
        "__weakref__",
        "busy",
        "close_after_write",
        "closed",
        "closing",
        "last_active",
        "listener",
        "pending_done",
        "rbuf",
        "sock",
        "timer",
        "wbuf",
    )

    def __init__(self, listener: Listener, sock: socket.socket) -> None:
        self.listener, self.sock = listener, sock
        self.rbuf, self.wbuf = bytearray(), bytearray()
        self.busy = self.closed = self.closing = self.close_after_write = False
        self.last_active = time.monotonic()
        self.pending_done: Callable[[], None] | None = None
        self.timer: Timer | None = None
        listener.connections.add(self)
        listener.loop.connections.add(self)
        listener.loop.selector.register(sock, selectors.EVENT_READ, self._on_event)

    def _on_event(self, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush()
        if mask & selectors.EVENT_READ and not self.closed:
            self._read()

    def _read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:
            self.close()
            return
        self.last_active = time.monotonic()
        if self.busy and len(self.rbuf) > MAX_FROZEN_BUFFER:
            return  # a frozen node stops caring
        self.rbuf += data
        self._process()

    def _process(self) -> None:
        while not self.busy and not self.closed and self.rbuf:
            try:
                parsed = parse_request(self.rbuf)
            except HttpParseError as exc:
                self._answer(Request("GET", "/", "HTTP/1.1"), Response(exc.status, body=str(exc).encode(), close=True))
                return
            if parsed is None:
                return
            request, consumed = parsed
            del self.rbuf[:consumed]
            try:
                response = self.listener.handler(request)
            except Exception:
                log.exception("%s: handler failed for %s %s", self.listener.name, request.method, request.target)
                response = Response(500, body=b"sim node handler failed\n")
            self.busy = True
            self.pending_done = response.done
            if response.never:
                return
            if response.delay_s > 0:
                self.timer = self.listener.loop.call_later(response.delay_s, lambda: self._answer(request, response))
                return
            self._answer(request, response)

    def _answer(self, request: Request, response: Response) -> None:
        if self.closed:
            return
        keep = request.keep_alive and not response.close and not self.closing
        self.wbuf += encode_response(
            response, head_only=request.method == "HEAD", keep_alive=keep, version=request.version
        )
        self.close_after_write = not keep
        self.busy = False
        self.timer = None
        self._finish_request()
        self._flush()
        if not self.closed and not self.close_after_write:
            self._process()

    def _finish_request(self) -> None:
        done, self.pending_done = self.pending_done, None
        if done is not None:
            try:
                done()
            except Exception:
                log.exception("request completion callback failed")

    def _flush(self) -> None:
        while self.wbuf and not self.closed:
            try:
                sent = self.sock.send(self.wbuf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return
            del self.wbuf[:sent]
        if self.closed:
            return
        if not self.wbuf and self.close_after_write:
            self.close()
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.wbuf else 0)
        self.listener.loop.selector.modify(self.sock, events, self._on_event)

    def close(self, *, abort: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
        self._finish_request()
        self.listener.connections.discard(self)
        self.listener.loop.connections.discard(self)
        try:
            self.listener.loop.selector.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        if abort:
            try:  # linger 0: the peer sees a reset, like a process that died
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.sock.close()
