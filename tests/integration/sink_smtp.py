"""Alerts by e-mail through a real SMTP server on 127.0.0.1 (Debian's
python3-aiosmtpd): the surge's incident on the offline demo feed arrives
once, to every recipient, as a well-formed UTF-8 text mail (RFC 2047
subject from the sink's template, base64 body that decodes to the alert).
While the server is down the alert waits; it arrives once it is up."""
import os
import sys

try:
    import aiosmtpd  # noqa: F401
except ImportError:
    # Debian's python3-aiosmtpd lives with the system interpreter; a pyenv
    # or venv python3 may not see it.
    if os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != "/usr/bin/python3" and \
            not os.environ.get("EAR_REEXEC"):
        os.environ["EAR_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("sink_smtp needs python3-aiosmtpd (apt-get install "
          "python3-aiosmtpd)", file=sys.stderr)
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import SRC, TMP, check, finish, fresh_tmp, jsonout, run, write
from smtpd_fixture import SmtpServer, free_port

fresh_tmp()
feeds = os.path.join(SRC, "examples", "feeds")
port = free_port()


def config(url):
    return f"""
store: ./earshot.db
rules: [{os.path.join(SRC, "rules")}]
brands:
  - name: Villanyász
    aliases: [villanyász, villanyasz]
sources:
  - {{name: villanyasz-social, url: {feeds}/villanyasz-social.xml, brand: Villanyász, type: atom, lang: hu}}
sinks:
  - name: mail
    type: smtp
    url: "{url}"
    from: earshot@example.org
    to: [ops@example.org, "lead@example.org"]
    incidents_only: true
    subject: "Riasztás: $${{summary}}"
"""


cfg = write("earshot.yml", config(f"smtp://127.0.0.1:{port}"))
G = ["--config", cfg]

# the server is down: the incident's alert waits
p = run(*G, "run", env={"EARSHOT_NOW": "2026-11-23T17:00:00Z"})
check(p.returncode == 0, "run succeeds with the mail server down",
      p.stderr)
check("sink 'mail'" in p.stderr and "SMTP" in p.stderr,
      "run warns that the mail sink failed", p.stderr)
p = run(*G, "outbox", "--json", env={"EARSHOT_NOW": "2026-11-23T17:00:00Z"})
waiting = jsonout(p, "outbox --json") or []
check(len(waiting) == 1 and waiting[0]["kind"] == "incident",
      "the incident alert waits", str(waiting))

# the server is up: outbox retry sends it
srv = SmtpServer(port)
p = run(*G, "outbox", "retry", env={"EARSHOT_NOW": "2026-11-23T17:00:20Z"})
check(p.returncode == 0, "outbox retry delivers", p.stderr)
check(len(srv.messages) == 1, "one message arrived", str(len(srv.messages)))
if srv.messages:
    raw = srv.messages[0]
    check(raw["from"] == "earshot@example.org", "envelope sender",
          raw["from"])
    check(sorted(raw["to"]) == ["lead@example.org", "ops@example.org"],
          "both recipients", str(raw["to"]))
    data = raw["data"]
    check(all(len(line) <= 998 for line in data.split(b"\r\n")),
          "no line longer than SMTP allows")
    check(all(b < 128 for b in data), "the message is 7-bit clean "
          "(UTF-8 only inside encoded words and base64)")
    msg = srv.parsed()[0]
    check(msg["Subject"].startswith("Riasztás: Incident #1 opened: 14 "
                                    "billing complaints about Villanyász"),
          "the subject template is filled in and decodes", msg["Subject"])
    check(msg["Message-ID"].endswith("@earshot>"), "a Message-ID",
          msg["Message-ID"])
    check(msg["Date"] == "Mon, 23 Nov 2026 17:00:20 +0000", "the date",
          msg["Date"])
    check(msg.get_content_type() == "text/plain" and
          msg.get_content_charset() == "utf-8" and
          msg["Content-Transfer-Encoding"] == "base64",
          "text/plain UTF-8 in base64")
    text = msg.get_content()
    check("27% áfát" in text and "https://social.example.hu/post/vs-2007"
          in text, "the body names the first mention and its link", text)
    check("számla" in text, "the body names the top terms", text)

# delivered once
p = run(*G, "outbox", "retry", env={"EARSHOT_NOW": "2026-11-23T17:01:00Z"})
check(len(srv.messages) == 1, "a second retry sends nothing again")
srv.close()
finish()
