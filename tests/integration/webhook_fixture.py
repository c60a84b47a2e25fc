"""A webhook receiver on 127.0.0.1 for the sink tests (imported, not run).

WebhookServer records every request (path, headers, body) and can fail on
demand: set fail_next = N to answer the next N requests with fail_status
(and a Retry-After header when retry_after is set)."""
import hashlib
import hmac
import http.server
import json
import threading


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        srv = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with srv.lock:
            call = {"path": self.path, "headers": dict(self.headers.items()),
                    "body": body, "failed": False}
            if srv.fail_next > 0:
                srv.fail_next -= 1
                call["failed"] = True
            srv.calls.append(call)
        if call["failed"]:
            self.send_response(srv.fail_status)
            if srv.retry_after is not None:
                self.send_header("Retry-After", str(srv.retry_after))
            msg = b"down for maintenance"
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, fmt, *args):
        pass


class WebhookServer:
    def __init__(self):
        self.calls = []
        self.fail_next = 0
        self.fail_status = 503
        self.retry_after = None
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self, path=None):
        """Successful calls (optionally to one path), bodies parsed."""
        with self.lock:
            out = []
            for c in self.calls:
                if c["failed"] or (path and c["path"] != path):
                    continue
                out.append(c)
            return out

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def signature_ok(call, secret):
    """X-Earshot-Signature is sha256=HMAC-SHA256(secret, body)."""
    want = "sha256=" + hmac.new(secret.encode(), call["body"],
                                hashlib.sha256).hexdigest()
    got = call["headers"].get("X-Earshot-Signature", "")
    return hmac.compare_digest(want, got)


def body(call):
    return json.loads(call["body"].decode("utf-8"))
