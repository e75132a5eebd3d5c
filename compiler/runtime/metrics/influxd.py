"""A real InfluxDB 1.x on loopback (Debian package ``influxdb``), for tests, benchmarks and
local runs: started on free ports with its data in a folder, stopped by its PID."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import AisprintError
from compiler.runtime.loopback import free_port


@dataclass
class InfluxServer:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_influxd(root: Path, *, timeout: float = 20.0) -> InfluxServer:
    binary = shutil.which("influxd")
    if binary is None:
        raise AisprintError("influxd is not installed (Debian: apt-get install influxdb)")
    root.mkdir(parents=True, exist_ok=True)
    http_port, rpc_port = free_port(), free_port()
    config = root / "influxdb.conf"
    config.write_text(f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
""")
    process = subprocess.Popen([binary, "run", "-config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1) as reply:
                if reply.status == 204:
                    return InfluxServer(url, process)
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AisprintError("influxd did not start") from None
            time.sleep(0.1)
