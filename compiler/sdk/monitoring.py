"""Where execution times go at run time.

AMS components report one ``execution_time`` point per request. Here the point is appended,
as one JSON line, to the file named by ``AISPRINT_METRICS_FILE`` when it is set (the local
runner and tests collect it from there); without it, reporting is a no-op.
"""

from __future__ import annotations

import json
import os


def report_execution_time(component: str, start: float, end: float) -> None:
    target = os.environ.get("AISPRINT_METRICS_FILE")
    if not target:
        return
    point = {
        "measurement": "execution_time",
        "component_name": os.environ.get("COMPONENT_NAME", component),
        "resource_id": os.environ.get("RESOURCE_ID", ""),
        "start": start,
        "end": end,
        "execution_time": end - start,
    }
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(point, sort_keys=True) + "\n")
