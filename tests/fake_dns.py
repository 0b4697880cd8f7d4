"""Make host names resolve where a test says (the outbound guard's tests), and count TCP
connections to prove that a refused address was never connected to."""

import contextlib
import socket
import threading


def fake_dns(monkeypatch, names: dict) -> dict:
    """Resolve each name in ``names`` to its address (or list of addresses); other names
    resolve as usual. Change the dict later to make a name point elsewhere (rebinding)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        answer = names.get(str(host).lower().rstrip("."))
        if answer is None:
            return real(host, port, *args, **kwargs)
        addresses = [answer] if isinstance(answer, str) else list(answer)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


class CountingListener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts and closes them."""

    def __init__(self):
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        # shutdown wakes the thread blocked in accept(); close alone may not on Linux
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(timeout=5)
