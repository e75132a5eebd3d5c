"""A warm worker of the local backend: one process per running copy of a service.

    python -m compiler.runtime.local.worker DESIGN_DIR

Started by the backend's ``Worker`` (``compiler.runtime.local.processes``) with DESIGN_DIR as
its working folder (what the image's ``script.sh`` does with ``cd /opt/<unit>``), so the
design's own copy of the ``aisprint`` SDK is the one imported. It imports the component's
``main.py`` once and then, for every request read from stdin (one JSON object a line:
``input``, ``output``, ``env``), calls ``main({"input": …, "output": …})`` — the model a
component loads on first use stays loaded.
A component without a ``main`` function is run cold, ``python main.py INPUT OUTPUT_DIR``, per
request. Replies (one JSON line each) go to the original stdout; the component's own prints go
to stderr (the service's log). The worker ends when stdin closes, so it never outlives the
backend that started it for longer than the request it is running.

Only the standard library is imported here: nothing may shadow the design's ``aisprint``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path


def _records(path: str) -> list[dict]:
    """The execution_time records the SDK appended during one request."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def _load_main(design: Path):
    spec = importlib.util.spec_from_file_location("aisprint_component_main", design / "main.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    main = getattr(module, "main", None)
    return main if callable(main) else None


def serve(design: Path, replies) -> None:
    if str(design) not in sys.path:
        sys.path.insert(0, str(design))
    try:
        main = _load_main(design)
    except BaseException as exc:  # noqa: BLE001 - reported to the backend, which logs it
        replies.write(json.dumps({"ready": False, "error": "".join(
            traceback.format_exception_only(type(exc), exc)).strip()}) + "\n")
        replies.flush()
        return
    replies.write(json.dumps({"ready": True, "warm": main is not None}) + "\n")
    replies.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        os.environ.update({k: str(v) for k, v in request.get("env", {}).items()})
        metrics_file = os.environ.get("AISPRINT_METRICS_FILE", "")
        start = time.time()
        reply: dict = {"ok": True, "result": None, "error": ""}
        try:
            os.chdir(design)
            if main is not None:
                result = main({"input": request["input"], "output": request["output"]})
                reply["result"] = None if result is None else str(result)
            else:
                done = subprocess.run([sys.executable, "main.py", request["input"],
                                       request["output"]], stdout=sys.stderr, check=False)
                if done.returncode != 0:
                    reply.update(ok=False, error=f"main.py exited with {done.returncode}")
        except SystemExit as exc:
            if exc.code not in (None, 0):
                reply.update(ok=False, error=f"main() called sys.exit({exc.code!r})")
        except BaseException as exc:  # noqa: BLE001 - a failed request, not a failed worker
            lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
            sys.stderr.write("".join(lines))
            sys.stderr.flush()
            reply.update(ok=False, error="".join(
                traceback.format_exception_only(type(exc), exc)).strip())
        reply.update(function_start=start, function_end=time.time(),
                     records=_records(metrics_file) if metrics_file else [])
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    # the replies keep the real stdout; everything the component prints goes to stderr
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(Path(sys.argv[1]).resolve(), replies)


if __name__ == "__main__":
    main()
