"""Where execution times go at run time.

AMS components report one ``execution_time`` point per request (formats reference §5.4):
tags ``session_id, kubernetes_cluster_id, resource_id, component_name``, fields
``job_start_time, function_start_time, job_end_time, function_duration, job_duration,
job_overhead``. Here the point is appended, as one JSON line, to the file named by
``AISPRINT_METRICS_FILE`` when it is set (the local runner and tests collect it from there and
store it in InfluxDB or the embedded store); without it, reporting is a no-op.

Where the values come from:

* ``session_id``: the environment's ``UUID`` (what the seed's script.sh passes), else the
  session carried in the input file's name (``aisprint-<36-char uuid>…``), else empty;
* ``component_name``: ``COMPONENT_NAME``, else the decorated function's component;
  ``resource_id``: ``RESOURCE_ID``; ``kubernetes_cluster_id``: ``KCI`` (the variable the
  compiled OSCAR services set) or ``KUBERNETES_CLUSTER_ID``;
* ``job_start_time``: ``AISPRINT_JOB_START_TIME`` when the platform says when the job began
  (the local runner does), else the function's own start; the job's overhead is the time
  between the two.

The older keys ``start``, ``end`` and ``execution_time`` are still written, for readers of the
first format.
"""

from __future__ import annotations

import json
import os
import re

SESSION_IN_NAME = re.compile(
    r"^aisprint-([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")


def session_from_name(name: str | os.PathLike[str] | None) -> str:
    """The session UUID an ``aisprint-<uuid>…`` file name carries, or ``""``."""
    if not name:
        return ""
    match = SESSION_IN_NAME.match(os.path.basename(os.fspath(name)))
    return match.group(1).lower() if match else ""


def report_execution_time(component: str, start: float, end: float, *,
                          input_path: str | os.PathLike[str] | None = None) -> None:
    target = os.environ.get("AISPRINT_METRICS_FILE")
    if not target:
        return
    job_start = start
    declared = os.environ.get("AISPRINT_JOB_START_TIME")
    if declared and re.fullmatch(r"\d+(\.\d*)?", declared.strip()):
        job_start = min(float(declared), start)
    point = {
        "measurement": "execution_time",
        "component_name": os.environ.get("COMPONENT_NAME", component),
        "resource_id": os.environ.get("RESOURCE_ID", ""),
        "kubernetes_cluster_id": os.environ.get("KCI",
                                                os.environ.get("KUBERNETES_CLUSTER_ID", "")),
        "session_id": os.environ.get("UUID") or session_from_name(input_path),
        "job_start_time": job_start,
        "function_start_time": start,
        "job_end_time": end,
        "function_duration": end - start,
        "job_duration": end - job_start,
        "job_overhead": start - job_start,
        # the first format's keys
        "start": start,
        "end": end,
        "execution_time": end - start,
    }
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(point, sort_keys=True) + "\n")
