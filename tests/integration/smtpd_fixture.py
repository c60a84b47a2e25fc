"""An SMTP server on 127.0.0.1 for the sink tests (imported, not run):
Debian's python3-aiosmtpd, recording every message it receives."""
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, owner):
        self.owner = owner

    async def handle_DATA(self, server, session, envelope):
        with self.owner.lock:
            self.owner.messages.append({
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "data": envelope.original_content or envelope.content,
            })
        return "250 Message accepted"


def free_port():
    """A port nobody listens on right now (for a server started later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self, port=None):
        self.messages = []
        self.lock = threading.Lock()
        self.port = port or free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1",
                                     port=self.port)
        self.controller.start()

    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def parsed(self):
        """The received messages as email.message.EmailMessage objects."""
        with self.lock:
            return [email.message_from_bytes(m["data"],
                                             policy=email.policy.default)
                    for m in self.messages]

    def close(self):
        self.controller.stop()
