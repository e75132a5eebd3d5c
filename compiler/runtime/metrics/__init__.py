"""Runtime metrics: the ``execution_time`` points AMS components write, and what AMS makes of them.

Every component reports one point per request (formats reference §5.4): measurement
``execution_time``, tags ``session_id, kubernetes_cluster_id, resource_id, component_name``,
fields ``job_start_time, function_start_time, job_end_time, function_duration, job_duration,
job_overhead`` (epoch seconds and seconds). From them AMS computes (§5.2):

* the response time of a QoS constraint's path, per ``session_id``: the latest
  ``job_end_time`` of the path's last component minus the earliest ``job_start_time`` of its
  first component, averaged over the window; a local constraint is a path of one component;
* the throughput of ``throughput_component``: distinct sessions seen in the window.

``MetricsSource`` is the one interface the reconciler and the local runner use; three stores
implement it: InfluxDB 1.x (HTTP API, InfluxQL), InfluxDB 2.x (token/org/bucket, Flux over
``/api/v2/query``, line protocol over ``/api/v2/write``) and an embedded SQLite file for the
local runner when no InfluxDB is configured. Stores only fetch raw points; the statistics are
computed here, by one pure function, so every store gives the same numbers.

When a path has no session that crossed it whole in the window (points written without
``session_id``, like the local SDK's), its time is the sum of its components' mean times, and
the result says so (``method = "sum_of_components"``).

Configuration comes from the environment (``INFLUX_URL``, ``INFLUX_TOKEN`` — the names AMS's
Telegraf configuration uses — ``INFLUX_VERSION``, ``INFLUX_DB``, ``INFLUX_USER``,
``INFLUX_PASSWORD``, ``INFLUX_ORG``, ``INFLUX_BUCKET``) or a YAML file without secrets.

The package: ``points`` (the point, line protocol), ``ams`` (QoS paths, the statistics, the
``MetricsSource`` interface), one module per store (``influxdb``, ``embedded``), ``config``
(which store, from where), ``influxd`` (a real InfluxDB 1.x on loopback for tests and runs).
"""


from compiler.runtime.metrics.ams import (
    MetricsSource,
    PathTimes,
    QoSPath,
    QoSSpec,
    ResponseTimes,
    Stats,
    load_qos,
    qos_from_files,
    qos_from_mapping,
    summarize,
    throughput_of,
)
from compiler.runtime.metrics.config import MetricsConfig, load_config, open_source
from compiler.runtime.metrics.embedded import EmbeddedStore
from compiler.runtime.metrics.influxdb import (
    InfluxV1Source,
    InfluxV2Source,
    flux_select,
    influxql_select,
    parse_annotated_csv,
)
from compiler.runtime.metrics.points import (
    FIELDS,
    MEASUREMENT,
    TAGS,
    ExecutionTimePoint,
    MetricsError,
    line_protocol,
    point_from_record,
    points_from_jsonl,
)

__all__ = ["EmbeddedStore", "ExecutionTimePoint", "FIELDS", "InfluxV1Source", "InfluxV2Source",
           "MEASUREMENT", "MetricsConfig", "MetricsError", "MetricsSource", "PathTimes", "QoSPath",
           "QoSSpec", "ResponseTimes", "Stats", "TAGS", "flux_select", "influxql_select",
           "line_protocol", "load_config", "load_qos", "open_source", "parse_annotated_csv",
           "point_from_record", "points_from_jsonl", "qos_from_files", "qos_from_mapping",
           "summarize", "throughput_of"]
