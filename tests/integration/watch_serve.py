"""earshot watch --serve: the scheduler and the web inbox in one process.
The inbox answers while watch polls, the API still wants a session, and
SIGTERM stops both cleanly (exit 0)."""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from _harness import EARSHOT, SRC, TMP, check, finish, fresh_tmp

fresh_tmp()
cfg = os.path.join(SRC, "examples", "demo.yml")
db = os.path.join(TMP, "watch.db")
env = dict(os.environ, NO_COLOR="1")
proc = subprocess.Popen([EARSHOT, "--config", cfg, "--db", db, "watch",
                         "--serve=127.0.0.1:0"], cwd=TMP, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
url = None
lines = []
deadline = time.time() + 60
while time.time() < deadline and url is None:
    line = proc.stderr.readline()
    if not line:
        break
    lines.append(line)
    m = re.search(r"web inbox on (http://127\.0\.0\.1:\d+/)", line)
    if m:
        url = m.group(1)
check(url is not None, "watch --serve says where the inbox listens",
      "".join(lines))
if url:
    with urllib.request.urlopen(url + "healthz", timeout=10) as r:
        check(r.status == 200, "/healthz answers while watch runs")
    try:
        urllib.request.urlopen(url + "api/queue", timeout=10)
        check(False, "/api/queue without a session is refused")
    except urllib.error.HTTPError as e:
        check(e.code == 401, "/api/queue without a session: 401", str(e.code))
        body = json.loads(e.read().decode())
        check("error" in body, "the 401 is a JSON error", str(body))
    # The first poll lands in the store the inbox reads.
    for _ in range(100):
        with urllib.request.urlopen(url + "metrics", timeout=10) as r:
            metrics = r.read().decode()
        if re.search(r"^earshot_\w+ [1-9]", metrics, re.M):
            break
        time.sleep(0.2)
    check("earshot_" in metrics, "/metrics answers with earshot_ metrics")
proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = None
check(rc == 0, "SIGTERM stops watch --serve with exit 0", str(rc))
finish()
