"""A scripted HTTP server on 127.0.0.1 for earshot's tests.

Import it from a test (sys.path.insert(0, os.path.dirname(__file__))):

    from httpd_fixture import FixtureServer
    with FixtureServer() as srv:
        srv.route("/feed.xml", body=b"<rss>...</rss>", etag='"v1"')
        srv.route("/gone", status=404)
        srv.route("/busy", status=429, headers={"Retry-After": "120"})
        srv.route("/big", stream=(b"x" * 65536, 300))     # 19.7 MB
        srv.route("/slow", body=b"...", delay=5)
        srv.route("/drip", body=b"...", drip=(1, 2.0))     # 1 byte / 2 s
        url = srv.url("/feed.xml")
        ...
        srv.requests_for("/feed.xml")  # [{'method','path','headers',
                                       #   'client' (the client's port)}]

Each route answers every request the same way, except that an etag or
last_modified route answers 304 to a matching conditional request. The
server binds port 0 on the loopback address only and runs in a thread;
stop() (or leaving the with-block) shuts it down.

Run as a script, it tests itself (it is collected as an integration test).
"""

import gzip as gzip_mod
import http.server
import socketserver
import threading
import time


class Route:
    def __init__(self, body=b"", status=200, headers=None,
                 content_type="application/xml", gzip=False, etag=None,
                 last_modified=None, delay=0.0, drip=None, stream=None,
                 chunked=False, location=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.status = status
        self.headers = dict(headers or {})
        self.content_type = content_type
        self.gzip = gzip
        self.etag = etag
        self.last_modified = last_modified
        self.delay = delay
        self.drip = drip          # (bytes per write, seconds between)
        self.stream = stream      # (chunk, count): a large body, streamed
        self.chunked = chunked    # no Content-Length, chunked encoding
        self.location = location  # for redirects


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "earshot-fixture/1"

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _write(self, data, chunked):
        if chunked:
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        else:
            self.wfile.write(data)

    def _serve(self, head):
        srv = self.server.fixture
        path = self.path
        with srv.lock:
            srv.requests.append({"method": self.command, "path": path,
                                 "headers": dict(self.headers.items()),
                                 "client": self.client_address[1]})
            route = srv.routes.get(path) or srv.routes.get(path.split("?")[0])
        if route is None:
            route = Route(status=404, body=b"no such route\n",
                          content_type="text/plain")
        try:
            if route.delay:
                time.sleep(route.delay)
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (route.etag and inm == route.etag) or \
               (route.last_modified and not route.etag and
                    ims == route.last_modified):
                self.send_response(304)
                if route.etag:
                    self.send_header("ETag", route.etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = route.body
            self.send_response(route.status)
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            if route.location:
                self.send_header("Location", route.location)
            for k, v in route.headers.items():
                self.send_header(k, v)
            if route.gzip:
                body = gzip_mod.compress(body)
                self.send_header("Content-Encoding", "gzip")
            chunked = route.chunked
            if route.stream:
                chunk, count = route.stream
                if not chunked:
                    self.send_header("Content-Length",
                                     str(len(chunk) * count))
            elif not chunked:
                self.send_header("Content-Length", str(len(body)))
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if head:
                return
            if route.stream:
                chunk, count = route.stream
                for _ in range(count):
                    self._write(chunk, chunked)
            elif route.drip:
                step, pause = route.drip
                for i in range(0, len(body), step):
                    self._write(body[i:i + step], chunked)
                    self.wfile.flush()
                    time.sleep(pause)
            elif body:
                self._write(body, chunked)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up (size cap, timeout): that is the point
            self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        import sys
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            return  # a client that hung up early is expected here
        super().handle_error(request, client_address)


class FixtureServer:
    def __init__(self):
        self.routes = {}
        self.requests = []
        self.lock = threading.Lock()
        self._httpd = None
        self._thread = None

    def route(self, path, **kw):
        with self.lock:
            self.routes[path] = Route(**kw)
        return self

    def start(self):
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fixture = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    @property
    def port(self):
        return self._httpd.server_address[1]

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def requests_for(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _selftest():
    import urllib.request
    import urllib.error

    with FixtureServer() as srv:
        srv.route("/a", body="hello", etag='"v1"', content_type="text/plain")
        srv.route("/z", body=b"zipped " * 100, gzip=True)
        srv.route("/busy", status=429, headers={"Retry-After": "7"})
        srv.route("/s", stream=(b"ab", 5))
        srv.route("/c", body=b"chunky", chunked=True)
        with urllib.request.urlopen(srv.url("/a")) as r:
            assert r.read() == b"hello" and r.headers["ETag"] == '"v1"'
        req = urllib.request.Request(srv.url("/a"),
                                     headers={"If-None-Match": '"v1"'})
        try:
            urllib.request.urlopen(req)
            raise AssertionError("expected 304")
        except urllib.error.HTTPError as e:
            assert e.code == 304, e.code
        with urllib.request.urlopen(srv.url("/z")) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert gzip_mod.decompress(r.read()) == b"zipped " * 100
        try:
            urllib.request.urlopen(srv.url("/busy"))
            raise AssertionError("expected 429")
        except urllib.error.HTTPError as e:
            assert e.code == 429 and e.headers["Retry-After"] == "7"
        with urllib.request.urlopen(srv.url("/s")) as r:
            assert r.read() == b"ababababab"
        with urllib.request.urlopen(srv.url("/c")) as r:
            assert r.read() == b"chunky"
        try:
            urllib.request.urlopen(srv.url("/nothing"))
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404
        assert len(srv.requests_for("/a")) == 2
        assert srv.requests_for("/a")[1]["headers"]["If-None-Match"] == '"v1"'
    print("httpd_fixture: self-test ok")


if __name__ == "__main__":
    _selftest()
