"""Serve a component over HTTP (for plain Kubernetes, where no OSCAR triggers it).

    python -m aisprint.serve [--port 8080] [--main main.py]

``POST /run`` with a file as the body runs ``main({"input": <that file>, "output": <dir>})``
and answers with the names of the files it wrote; ``GET /healthz`` answers 200.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def load_main(path: Path):
    spec = importlib.util.spec_from_file_location("component_main", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def handler_for(main):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def do_POST(self):  # noqa: N802
            if self.path != "/run":
                self.send_response(404)
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length", 0))
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / (self.headers.get("X-File-Name") or "input")
                source.write_bytes(self.rfile.read(length))
                out = Path(tmp) / "output"
                out.mkdir()
                main({"input": str(source), "output": str(out)})
                body = json.dumps(sorted(p.name for p in out.rglob("*") if p.is_file()))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--main", type=Path, default=Path("main.py"))
    args = parser.parse_args()
    ThreadingHTTPServer(("0.0.0.0", args.port), handler_for(load_main(args.main))).serve_forever()


if __name__ == "__main__":
    main()
