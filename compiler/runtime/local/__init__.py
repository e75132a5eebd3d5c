"""The embedded local backend: a compiled deployment run as local processes, with OSCAR's
semantics, on one machine.

What it reads (a compiled tree, ``<repo>/aisprint/…``; default deployment
``current_deployment``): the OSCAR services of ``oscar/fdl.yaml`` and the serverless functions
of the IM templates (``im/*.yaml``, nodes ``tosca.nodes.aisprint.FaaS.Function``) — their
input and output storage paths, environment and cores — and ``application_dag.yaml`` for the
branch probabilities. Each service runs the real entry point of its design,
``aisprint/designs/<component>/<design>/main.py``.

OSCAR semantics, locally:

* storage: every storage path ``<bucket>/<folder>`` (whatever its provider: MinIO of a
  cluster, S3) is the folder ``<state>/buckets/<bucket>/<folder>``; objects stay there, as in
  a bucket;
* a file arriving in a folder that is a service's input triggers one run of that service (an
  input's ``prefix``/``suffix`` filters are honoured); a file counts as arrived when its size
  and time are the same on two polls (writers are not required to rename);
* a run gets the file staged in a private folder, named ``aisprint-<uuid>-<name>`` when it
  does not carry a session yet (the seed's script.sh does the same, so AMS can follow one
  request along the path: the UUID is the ``session_id``); every file the run writes is
  uploaded, prefixed with the session when the component did not keep it, to each of the
  service's output folders (an output's ``prefix``/``suffix`` filters are honoured) — which
  are the next services' inputs;
* branches: OSCAR itself triggers every service reading a folder. With ``routing="dag"`` (the
  default) the DAG's probabilities are honoured, deterministically: edges of probability 1 are
  always taken; the edges of a unit below 1 are one exclusive choice (an early exit or its
  bypass), picked by the session's hash — the same request always takes the same branch, and
  over many requests each branch gets its share. ``routing="all"`` triggers every successor;
* runs happen in warm workers (``compiler.runtime.local.worker``): the component is imported
  once and its model stays loaded. At most N runs of a service at once, N = its cores
  (``COMPUTING_UNITS``, rounded up), at most this machine's CPUs, at most ``max_parallel``;
  workers start when there is work for them;
* metrics: each run's ``execution_time`` point (§5.4), as the component's SDK reported it, or
  measured by the runner when the component reports none, goes to the metrics store:
  InfluxDB when ``INFLUX_URL`` … are set, else the embedded store ``<state>/metrics.sqlite``.

State folder: ``buckets/``, ``work/`` (runs in progress), ``logs/<service>.log`` (the
components' output), ``jobs.jsonl`` (one line per run), ``seen/<service>.txt`` (files already
taken — name, size, time — so a restart does not run them again), ``up.json`` (PIDs of the
backend, its workers and the reconciler, for ``aisprint down``; the deployment's fingerprint
and how many times it was reloaded).

The reconciler beside it: ``compile_into`` commits the compiled tree to a git repository
(``<state>/repo``) through the GitOps writer, which keeps that repository's work tree in step
with its branch. The backend runs from the work tree and re-reads the deployment when its files
change (``topology_fingerprint``, recorded in ``up.json``), restarting the services that
changed — so a reconciler that commits a new ``current_deployment`` there (``aisprint up``
starts one, ``compiler.runtime.local.reconciler``) is applied without further calls.

The package, in the order a run goes through it:

* ``topology`` — the values (``Storage``, ``Service``, ``Topology``), the pure rules above
  (sessions, parallelism, the branch choice) and ``load_topology`` (files only);
* ``processes`` — the warm ``Worker`` children and how a process is stopped or recognised;
* ``worker`` — the child itself (``python -m compiler.runtime.local.worker DESIGN_DIR``);
* ``backend`` — ``LocalBackend``: watching, dispatching, uploading, recording, reloading;
* ``summary`` — ``summarize_run``: what a run did, per component and QoS path;
* ``lifecycle`` — ``aisprint up`` / ``down`` around it: ``compile_into``, inputs, the metrics
  store, ``running_backend`` / ``stop_backend``;
* ``reconciler`` — the ``aisprint reconcile --watch`` child beside the backend;
* ``supervisor`` — ``aisprint up`` / ``down`` as a library: ``prepare`` (what runs),
  ``Supervisor`` (the backend and its reconciler in this process, to the frozen ``UpResult``),
  ``detach`` (the same in a background child), ``down``;
* ``errors`` — ``LocalError``, the one error they raise.

The names below are loaded from their module on first use, not on import: a worker is started
as ``python -m compiler.runtime.local.worker``, which imports this package first, and the worker
must import nothing but the standard library (nothing may shadow the design's own modules).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "errors": ("LocalError", "local_error"),
    "topology": ("DEFAULT_DEPLOYMENT", "FAAS_FUNCTION", "SESSION_RE", "Service", "Storage",
                 "Topology", "aisprint_root", "chosen_successors", "load_topology",
                 "parallelism", "session_of", "topology_fingerprint", "with_session"),
    "processes": ("RECONCILER_COMMAND", "WORKER_MODULE", "Worker", "stop_process"),
    "backend": ("RELOAD_CHECK", "UP_FILE", "Job", "JobRecord", "LocalBackend"),
    "summary": ("ComponentSummary", "PathSummary", "Summary", "summarize_run"),
    "lifecycle": ("PHOTO_HINT", "Compiled", "compile_into", "default_images", "input_files",
                  "is_git_repository", "metrics_config", "open_metrics", "read_up_file",
                  "running_backend", "stop_backend"),
    "reconciler": ("ReconcilerOptions", "ReconcilerStatus"),
    "supervisor": ("Detached", "Prepared", "Supervisor", "UpOptions", "UpResult", "detach",
                   "down", "prepare"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = sorted(name for name in _HOME if not name.startswith("_"))
