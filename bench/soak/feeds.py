"""A local RSS server for the feed poller during the soak (127.0.0.1 only).

Each request gets a feed whose newest item changes every few seconds, so every poll finds new
articles to store, extract and index.
"""

import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = (
    "cigarettes seized at the border crossing; customs officers found undeclared tobacco "
    "hidden in a refrigerated trailer from Rotterdam operated by Baltic Freight Ltd"
)


def _rss(now: int) -> bytes:
    items = []
    for n in range(10):
        stamp = now // 5 - n
        items.append(
            f"<item><title>Seizure report {stamp}</title>"
            f"<link>http://127.0.0.1/news/{stamp}</link><guid>soak-{stamp}</guid>"
            f"<pubDate>{formatdate(stamp * 5, usegmt=True)}</pubDate>"
            f"<description>{WORDS} (report {stamp})</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Soak customs news</title><link>http://127.0.0.1/</link>"
        "<description>local soak feed</description>" + "".join(items) + "</channel></rss>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = _rss(int(time.time()))
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.hits += 1

    def log_message(self, *args):
        pass


def serve() -> ThreadingHTTPServer:
    """Start the server on a free port in a daemon thread; ``server.hits`` counts requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hits = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
