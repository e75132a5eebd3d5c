"""Diagnostics: every finding the tool reports to a user, with a stable code and a place.

A ``Diagnostic`` says what is wrong (``message``), how to fix it (``hint``) and where
(``location``: file, line, column). Codes are stable identifiers listed once in ``CODES``;
``docs/diagnostics.md`` is generated from that table and a test keeps the two in sync.

Three renderers turn a list of diagnostics into text: ``render_text`` (people; coloured on a
terminal, with the offending source line), ``render_json`` (machines) and ``render_github``
(GitHub workflow commands, which become annotations on the pull request's changed lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

DIAGNOSTICS_SCHEMA_VERSION = "https://aisprint-gitops.github.io/schemas/diagnostics/v1.json"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a user's file: 1-based line and column, plus the JSON pointer of the value."""

    file: str
    line: int = 0
    col: int = 0
    pointer: str = ""

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file


@dataclass(frozen=True)
class CodeInfo:
    title: str
    severity: Severity
    summary: str


def _e(title: str, summary: str) -> CodeInfo:
    return CodeInfo(title, Severity.ERROR, summary)


def _w(title: str, summary: str) -> CodeInfo:
    return CodeInfo(title, Severity.WARNING, summary)


# The catalogue. Codes never change meaning; retired codes are not reused.
CODES: dict[str, CodeInfo] = {
    # files and YAML
    "AIS001": _e("file-missing", "A required input file or folder does not exist."),
    "AIS002": _e("yaml-syntax", "A YAML file cannot be parsed."),
    "AIS003": _e("duplicate-key", "A YAML mapping has the same key twice; the later value would silently win."),
    "AIS004": _e("empty-file", "An input file is empty or holds only comments."),
    "AIS005": _e("unreadable-file", "A file cannot be read (permissions, not UTF-8, a folder instead of a file)."),
    "AIS006": _e("input-outside", "An input is a symlink that resolves outside the application, or a path that leaves it (absolute, or with `..`); nothing outside the application is read."),
    "AIS007": _e("input-not-regular", "An input is not a regular file (a named pipe, socket, device, or a folder where a file belongs)."),
    "AIS008": _e("input-too-large", "An input file is larger than the limit for its kind (4 MiB for YAML, JSON and Python text; 512 MiB for other files such as ONNX models)."),
    # JSON Schema
    "AIS100": _e("schema", "A value breaks its file's JSON Schema (a rule not covered by AIS101–AIS108)."),
    "AIS101": _e("schema-required", "A required key is missing."),
    "AIS102": _e("schema-unknown-key", "A key is not part of the format (often a typo)."),
    "AIS103": _e("schema-type", "A value has the wrong type (text where a number is expected, …)."),
    "AIS104": _e("schema-enum", "A value is not one of the allowed choices."),
    "AIS105": _e("schema-range", "A number is outside its allowed range."),
    "AIS106": _e("schema-pattern", "A name or text does not follow its required pattern."),
    "AIS107": _e("schema-size", "A list, mapping or text is too short or too long."),
    "AIS108": _e("schema-unique", "A list holds the same item twice."),
    "AIS109": _e("number-not-finite", "A number is NaN or infinite (`.nan`, `.inf`, `1e999`, JSON `NaN`/`Infinity`): every number must be finite; the message gives the valid range."),
    "AIS110": _e("number-too-large", "A number is beyond any sensible magnitude (above 1e12 unless its schema allows more, or an integer with hundreds of digits); the message gives the valid range."),
    # application DAG
    "AIS201": _e("dag-cycle", "The dependencies form a cycle; an application must be a DAG."),
    "AIS202": _e("dag-source", "The DAG must have exactly one source component (no incoming edge)."),
    "AIS203": _e("dag-unknown-component", "A dependency names a component that is not in System.components."),
    "AIS204": _e("dag-unconnected", "A component of System.components appears in no dependency."),
    "AIS205": _e("dag-probability-range", "A transition probability is not within [0, 1]."),
    "AIS206": _e("dag-probability-sum", "The transition probabilities leaving a component add up to more than 1."),
    "AIS207": _e("dag-duplicate-edge", "The same dependency is listed twice."),
    # candidate deployments and containers
    "AIS301": _e("deployment-unknown-component", "A candidate deployment names a component that is not in the DAG."),
    "AIS302": _e("deployment-missing", "A DAG component has no entry in candidate_deployments.yaml."),
    "AIS303": _e("container-unknown-resource", "A container names a resource that candidate_resources.yaml does not define."),
    "AIS304": _e("container-resource-layer", "A container's resource lives in a layer not listed in candidateExecutionLayers."),
    "AIS305": _e("deployment-unknown-layer", "candidateExecutionLayers names a computational layer that does not exist."),
    "AIS306": _e("container-memory", "A container needs more memory than every one of its candidate resources has."),
    "AIS307": _e("partition-name", "A partition entry does not follow `<name>_partitionX_Y`."),
    "AIS308": _e("partition-chain", "The partitions of a component do not form a complete chain _1 … _N."),
    "AIS309": _e("deployment-duplicate", "Two candidate deployment entries have the same name."),
    "AIS310": _w("container-architecture", "A container image is built for another CPU architecture than its resource."),
    "AIS311": _w("container-hardware", "A container needs SGX or a GPU that one of its candidate resources lacks."),
    "AIS312": _e("alternative-unknown", "alternative_components lists an alternative that has no entry in candidate_deployments.yaml (or no annotated source), or that is itself a DAG component."),
    # resources and network
    "AIS401": _e("network-unknown-subdomain", "subNetworkDomains names a network domain that does not exist."),
    "AIS402": _e("layer-unreachable", "A computational layer shares no network domain with any other layer."),
    "AIS403": _e("dependency-no-network", "Two dependent components have no pair of candidate layers that share a network domain."),
    "AIS404": _e("layer-duplicate-number", "Two computational layers have the same number."),
    "AIS405": _w("layer-key-number", "A computationalLayerN key does not match its `number`."),
    "AIS406": _e("network-subdomain-cycle", "Network domains contain each other through subNetworkDomains."),
    "AIS410": _e("resource-duplicate-name", "Two resources have the same name; every resource name must be unique."),
    "AIS411": _e("faas-incomplete", "A NativeCloudFunction resource lacks idleTime, transitionCost or cost."),
    "AIS412": _e("node-incomplete", "An edge or VM resource lacks totalNodes or processors."),
    # annotations and QoS
    "AIS501": _e("annotation-no-name", "A component source has no component_name annotation."),
    "AIS502": _w("annotation-unknown", "A decorator on main() is not an AI-SPRINT annotation."),
    "AIS503": _e("annotation-no-call", "An annotation is used without parentheses (write @exec_time(...))."),
    "AIS504": _e("annotation-duplicate", "The same annotation appears twice on main()."),
    "AIS505": _e("annotation-not-constant", "An annotation argument is not a literal constant, so it cannot be read statically."),
    "AIS506": _e("annotation-positional", "An annotation argument is positional; annotations take keyword arguments only."),
    "AIS508": _e("source-no-main", "A component folder has no main.py, or main.py has no single top-level `def main`."),
    "AIS509": _e("source-syntax", "A component's main.py is not valid Python."),
    "AIS510": _e("annotation-unknown-component", "component_name names a component that is not in the DAG."),
    "AIS511": _e("annotation-missing-component", "A DAG component has no annotated source in src/."),
    "AIS512": _w("annotations-stale", "common_config/annotations.yaml differs from the annotations in src/."),
    "AIS513": _e("annotation-duplicate-component", "Two sources declare the same component_name."),
    "AIS514": _e("annotation-misspelt", "A decorator on main() is a near miss of an AI-SPRINT annotation (`@exec_tme`); it would be silently ignored."),
    "AIS520": _e("qos-global-without-path", "global_time_thr is set but prev_components is empty."),
    "AIS521": _e("qos-path-not-in-dag", "prev_components plus the component do not form a path of the DAG."),
    "AIS522": _e("qos-path-unannotated", "A component of a global constraint's path has no exec_time annotation."),
    "AIS523": _e("qos-path-self", "prev_components contains the annotated component itself."),
    "AIS524": _w("onnx-missing", "The ONNX file named by partitionable_model is not in the component's onnx/ folder."),
    "AIS525": _e("annotation-path-outside", "onnx_file (partitionable_model, early_exits_model) is absolute or leaves the component's onnx/ folder with `..`."),
    # secrets
    "AIS601": _w("secret-in-file", "A secret value (key, password, token) is written in a committed file; allowed for a local test by AISPRINT_ALLOW_LITERAL_SECRETS=1 (artifacts carry a ${VAR} reference all the same)."),
    "AIS602": _e("secret-literal", "A credential field (SSH key, password, token, access or secret key) holds a literal value instead of a ${VAR} reference."),
    "AIS603": _e("secret-shape", "A value has the shape of a credential (private key, AWS access key id, GitHub/GitLab/Slack token, URL with a password) in a field that is copied into the artifacts."),
    "AIS604": _e("secret-in-source", "A file under src/ holds a credential (private key, AWS access key id, GitHub/GitLab/Slack token); it would be copied into every design and image."),
    # SPACE4AI-D settings and physical nodes
    "AIS701": _e("space4aid-unknown-layer", "SPACE4AI-D.yaml names a computational layer that does not exist."),
    "AIS702": _e("space4aid-layer-kind", "SPACE4AI-D.yaml classifies a layer inconsistently (twice, or a FaaS layer as edge/cloud)."),
    "AIS703": _e("physical-unknown-resource", "physical_nodes.yaml describes a layer or resource that candidate_resources.yaml does not define."),
    "AIS704": _w("physical-missing", "A physical resource has no connection data in physical_nodes.yaml."),
    "AIS705": _w("physical-node-count", "The number of worker nodes in physical_nodes.yaml differs from totalNodes."),
    # placement inputs (performance models, data sizes)
    "AIS801": _w("performance-missing", "A component or partition has no performance model on one of its candidate resources, so it will not be placed there."),
    "AIS802": _e("placement-impossible", "A component cannot be placed anywhere: none of its candidate resources has a usable performance model."),
    "AIS803": _w("performance-model-unsupported", "A performance model the placement cannot evaluate (a learnt model with neither its ONNX regressor nor a demand, or an unknown kind)."),
    "AIS804": _e("placement-infeasible", "No placement meets every constraint; the message says which limits cannot be met and by how much."),
    "AIS806": _e("placement-number", "The placement problem holds a number it cannot compute with (not finite, zero where it divides, or outside the range the solver handles); the message names the value and its valid range."),
    "AIS807": _e("solver-failed", "The MILP solver returned no usable answer (an error status or a failure reading its result); the message says what it reported."),
    "AIS808": _w("space4aid-method-mapped", "SPACE4AI-D.yaml names a method this solver does not run as named (TabuSearch, SimulatedAnnealing, GeneticAlgorithm); the message says what runs in its place (the MILP-backed search, or local search with random kicks in --mode heuristic) and which of its specialParameters are not used."),
    "AIS809": _w("space4aid-parameter-unused", "A SPACE4AI-D.yaml method sets a parameter it does not read (startingPointNumber on RandomGreedy, specialParameters on LocalSearch, iterations on BS, …): the value has no effect."),
    "AIS810": _w("space4aid-method-repeated", "SPACE4AI-D.yaml lists a second method of a kind already given (two RandomGreedy, two improvement heuristics, two BS): only the first of each kind runs."),
    "AIS811": CodeInfo("space4aid-verbose-level", Severity.INFO, "VerboseLevel above 1 shows the same live progress line as 1: the solver has one level of detail (0 hides it)."),
    "AIS812": _w("space4aid-duration-capped", "The durations of SPACE4AI-D.yaml's methods add up to more than the 600 s a file may grant the solver (it comes with a pull request whose plan must not hold CI for hours); the time limit stops there, --time-limit asks for more."),
    # ONNX partitioning (aisprint design)
    "AIS901": _e("partition-model-missing", "The ONNX file named by partitionable_model does not exist, so the component cannot be partitioned."),
    "AIS902": _e("partition-model-invalid", "The ONNX file named by partitionable_model cannot be read or analysed (not ONNX, broken graph, shape inference fails)."),
    "AIS903": _e("partition-no-cut", "The model has no valid cut: no split into two halves with few enough boundary tensors and work on both sides."),
    "AIS904": _e("partition-count-invalid", "num_partitions of partitionable_model is not a positive whole number."),
    "AIS905": _w("partition-fewer-cuts", "Fewer Pareto-optimal cuts exist than num_partitions asks for; only those are written."),
    # emitted files checked by their consumers (aisprint compile --check)
    "AIS906": _e("emitted-file-rejected", "An emitted file is rejected by the tool that consumes it (tosca-parser, IM's TOSCA translation, oscar-python, helm, kubernetes-validate) or by its JSON Schema: the compiler wrote something its consumer cannot use."),
    "AIS907": CodeInfo("check-skipped", Severity.INFO, "A check of emitted files did not run because its tool or data was not found (helm, an IM installation, IM's custom_types.yaml); the message says what to install, pass or set."),
    "AIS908": _e("tool-not-usable", "A tool or data file named by a command-line option or an environment variable (--tosca-types, AISPRINT_TOSCA_TYPES, AISPRINT_HELM, AISPRINT_TOSCA_ARTIFACTS) does not exist or is not what it should be."),
    # profiling (aisprint profile)
    "AIS921": _e("profile-no-inputs", "There are no input files to profile the application with."),
    "AIS922": _e("profile-no-entry-point", "A component has no main.py to profile (neither a design nor src/<folder>/main.py)."),
    "AIS923": _e("profile-component-failed", "A component or partition raised an error while processing a profiling input."),
    "AIS924": _e("profile-component-load-failed", "A component's main.py could not be imported (or defines no main) in a profiling worker."),
    "AIS925": _w("profile-unit-skipped", "A unit was not profiled because the units before it sent no files on."),
    "AIS926": _e("profile-bad-configuration", "The requested cores, parallelism, repetitions or campaign cannot be used on this machine."),
    "AIS927": _e("profile-unknown-resource", "--resource names no non-FaaS resource of candidate_resources.yaml."),
    "AIS928": _e("profile-run-parameters", "oscarp/run_parameters.yaml has a value of the wrong shape."),
    "AIS929": _w("profile-no-onnx-export", "A fitted performance model could not be exported to ONNX; the placement uses its demand field."),
    "AIS930": _e("profile-worker-failed", "A profiling worker died or a unit took longer than the timeout on one input."),
    "AIS931": _w("profile-no-resource", "A unit was profiled but this machine stands for none of its candidate resources."),
    # Infrastructure Manager (runtime)
    "AIS971": _e("im-auth-missing", "No IM credentials: give --im_auth PATH (an auth.dat), or set IM_AUTH_FILE or IM_AUTH."),
    "AIS972": _e("im-auth-invalid", "The IM credentials have no `type = InfrastructureManager` line (IM requires one)."),
    "AIS973": _e("im-auth-in-repository", "The IM auth file is tracked by git; credentials never belong in a repository."),
    "AIS974": _e("im-tosca-invalid", "A TOSCA template is rejected by tosca-parser (against IM's custom types) before it is posted."),
    "AIS975": _e("im-reference-unset", "A template or auth file references ${VARIABLE}s that are not set in the environment."),
    "AIS976": _e("im-unavailable", "The IM cannot be reached, or answers 5xx, after every retry."),
    "AIS977": _e("im-rejected", "The IM answered 4xx; the message is IM's own."),
    "AIS978": _e("im-timeout", "An infrastructure did not reach the awaited state in time."),
    "AIS979": _e("im-infrastructure-failed", "An infrastructure ended failed or unconfigured; its contextualisation message says why."),
    "AIS980": _e("im-translation", "IM's own TOSCA-to-RADL translation rejects an emitted template."),
    "AIS981": _e("im-no-templates", "No TOSCA templates or infrastructure list where the command looks for them."),
    # gitops: the GitHub Action's privileged comment stage reads a pull request's plan artifact
    "AIS982": _e("github-artifact-invalid", "The plan artifact of a pull request's run cannot be used: missing, expired, larger than the limit, not a zip, or without plan.json; nothing is posted."),
    "AIS983": _e("github-plan-untrusted-invalid", "The plan in a pull request's artifact is not JSON or does not match schemas/plan.schema.json; it is not rendered."),
    "AIS984": _e("github-workflow-run-invalid", "The workflow_run event lacks the run, its head commit or repositories, or reports a run that was not a pull request's."),
    "AIS985": _w("github-pull-request-moved", "No open pull request has the commit the plan was made at (it was pushed to again, or closed); the newer run comments instead."),
    "AIS805": _w("deployments-truncated", "The design space has more deployments than compile writes as deployment1..N folders (--max-deployments)."),
    # runtime: metrics stores (InfluxDB 1.x/2.x, embedded) and OSCAR services
    "AIS986": _e("metrics-config", "The metrics settings (INFLUX_* variables or the metrics file) are incomplete, unknown, or hold a secret."),
    "AIS987": _e("metrics-unreachable", "The InfluxDB server cannot be reached."),
    "AIS988": _e("metrics-refused", "InfluxDB refused a request (credentials, unknown database or bucket, bad query); its message is shown."),
    "AIS989": _e("metrics-bad-data", "A metrics answer or record cannot be read as execution_time points."),
    "AIS990": _e("qos-file", "A QoS constraints file cannot be read in the AMS format."),
    "AIS991": _e("metrics-store", "The embedded metrics store (SQLite in the state folder) cannot be opened, read or written."),
    "AIS992": _e("oscar-fdl", "An OSCAR FDL cannot be applied (wrong shape, a script missing, a service named twice)."),
    "AIS993": _e("oscar-cluster-unknown", "An FDL names an OSCAR cluster whose endpoint is not known."),
    "AIS994": _e("oscar-secret-missing", "A credential or a ${VARIABLE} the FDL refers to is not set in the environment."),
    "AIS995": _e("oscar-unreachable", "An OSCAR cluster cannot be reached."),
    "AIS996": _e("oscar-refused", "An OSCAR cluster refused a request; its message is shown."),
    # gitops: deployment repositories, plans
    "AIS941": _e("not-a-git-repository", "A folder given as a deployment or application repository is not a git repository."),
    "AIS942": _e("write-lock-held", "Another aisprint process is writing the same deployment repository or folder right now."),
    "AIS943": _e("head-moved", "The branch to write moved since it was read (another writer won the compare-and-swap)."),
    "AIS944": _e("stale-plan", "A saved plan was made against another head than the deployment branch has now."),
    "AIS945": _e("deployment-repository-dirty", "The compiled tree in the deployment repository has uncommitted (hand) changes."),
    "AIS946": _e("unknown-revision", "A revision (branch, tag, commit) does not exist in the repository."),
    "AIS947": _e("push-rejected", "The remote refused the push of the deployment branch (it moved, or access was denied)."),
    "AIS948": _e("plan-mismatch", "Compiling now gives another tree than the saved plan showed (the application or the tool changed)."),
    "AIS949": _e("plan-file-invalid", "A saved plan file cannot be read (not JSON, or not written by `aisprint plan --save`)."),
    "AIS950": _e("github-event-invalid", "The GitHub event payload or environment the action runs in cannot be used."),
    "AIS951": _e("identity-invalid", "An author or committer is not of the form 'Name <email>'."),
    "AIS952": _e("write-path-unsafe", "A folder the compiled tree is written under (a --prefix folder, aisprint/, or a compiled path itself) is a symlink, a file or a submodule, in the work tree or in the branch's commit: writing there could leave the repository or output folder."),
    "AIS953": _e("prefix-outside", "--prefix is absolute, contains `..` or names a folder of .git: it must be a folder inside the repository."),
    "AIS954": _e("output-not-a-folder", "--out or --repo names a file (or a path below a file), where a folder is needed."),
    "AIS955": _e("write-failed", "A write failed (disk full, permission denied, read-only filesystem, a file too large, a path that cannot be created) — of a compiled tree, a saved plan or a state folder; a tree's staging is removed and, before the commit point, the old tree stays intact."),
    # local backend (aisprint up / down)
    "AIS956": _e("local-repository-not-git", "`aisprint up` needs a git repository to compile into and to run the reconciler on, and the folder given is a plain one."),
    "AIS957": _e("git-write-failed", "A git command of the writer failed (disk full, permissions, a lock held by another git process); nothing was published."),
    "AIS958": _e("branch-invalid", "--branch names no valid git branch (spaces, `..`, `~`, `^`, `:` and the like are not allowed)."),
    "AIS959": _e("manifest-invalid", "A compiled tree's aisprint/manifest.json is not a manifest written by `aisprint compile` (not JSON, or keys or values of the wrong shape)."),
    "AIS960": _e("manifest-version", "A compiled tree's manifest is in another version of the manifest format than this aisprint-gitops reads."),
    "AIS961": _e("plan-file-version", "A saved plan is in another version of the plan format than this aisprint-gitops reads (written by an older or newer one)."),
    "AIS966": _e("local-already-running", "A local backend already runs from this state folder; stop it with `aisprint down` or use another --state."),
    "AIS967": _e("local-no-inputs", "The folder of files `aisprint up` should process does not exist or is empty (pass --images DIR or --no-images)."),
    "AIS968": _e("local-deployment-invalid", "The compiled deployment cannot be run locally (no such deployment, no service, a storage path or a design's main.py missing)."),
    "AIS969": _e("local-service-failed", "A service's main.py cannot be loaded in its worker, or a run of it failed."),
    "AIS970": _e("local-start-failed", "The local backend (its background process, or the reconciler beside it) could not start."),
    "AIS965": _e("reconcile-no-application", "A reconcile trigger fired but the reconciler does not know the application's sources, so it cannot re-place."),
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    hint: str = ""
    location: Location | None = None
    related: tuple[Location, ...] = field(default=())

    @property
    def title(self) -> str:
        return CODES[self.code].title

    def to_json(self) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "title": self.title,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "col": loc.col if loc else None,
            "pointer": loc.pointer if loc else None,
            "related": [str(r) for r in self.related],
        }


def diagnostic(
    code: str,
    message: str,
    hint: str = "",
    location: Location | None = None,
    related: Iterable[Location] = (),
    severity: Severity | None = None,
) -> Diagnostic:
    """Build a diagnostic whose severity defaults to the one its code is catalogued with."""
    return Diagnostic(
        code, severity or CODES[code].severity, message, hint, location, tuple(related)
    )


def sort_key(d: Diagnostic) -> tuple:
    loc = d.location or Location("")
    return (loc.file, loc.line, loc.col, d.code, d.message)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def count(diagnostics: Sequence[Diagnostic]) -> dict[str, int]:
    return {s.value + "s": sum(d.severity is s for d in diagnostics) for s in Severity}


# ----------------------------------------------------------------------------- renderers



def codes_markdown() -> str:
    """The code table of ``docs/diagnostics.md`` (generated; a test keeps the file in sync)."""
    rows = [
        "# Diagnostic codes",
        "",
        "Every finding of `aisprint validate` (and of every command that validates first) carries",
        "one of these stable codes. Errors make the command exit with 1; warnings do not, unless",
        "`--warnings-as-errors` is given. Generated from `compiler/diagnostics.py`: do not edit by hand.",
        "",
        "| code | name | severity | meaning |",
        "|---|---|---|---|",
    ]
    for code, info in CODES.items():
        rows.append(f"| {code} | {info.title} | {info.severity.value} | {info.summary} |")
    return "\n".join(rows) + "\n"
