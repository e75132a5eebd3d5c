"""JSON Schema checks of input files, with errors mapped to coded, located diagnostics.

The schemas live in ``schemas/`` (installed as the package ``compiler.schemas``), written in
draft 2020-12. Editors that only speak draft-07 (yaml-language-server) get a down-levelled copy
in ``schemas/editor/``; ``downlevel_draft07`` makes it and a test keeps both in sync.

Before the schema, one pass over every number of the document: JSON Schema cannot refuse NaN
(every comparison with NaN is false, so ``minimum`` lets it through) and has no notion of an
absurd magnitude. Every number must be finite (AIS109) and at most ``MAGNITUDE`` in size, or
within its schema's own range where that is wider (AIS110). The message gives the valid range.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.load.yamlpos import YamlDocument, pointer


# The input files, by schema name; the same names are used by `aisprint schema`.
@dataclass(frozen=True)
class InputFile:
    path: str  # relative to the application folder
    schema: str
    required: bool
    purpose: str


INPUT_FILES = (
    InputFile("common_config/application_dag.yaml", "application_dag", True,
              "the components and their dependencies"),
    InputFile("common_config/candidate_resources.yaml", "candidate_resources", True,
              "the network domains, computational layers and resources"),
    InputFile("common_config/candidate_deployments.yaml", "candidate_deployments", True,
              "where each component may run and in which container"),
    InputFile("common_config/annotations.yaml", "annotations", False,
              "the annotations, as written by `aisprint design`"),
    InputFile("common_config/physical_nodes.yaml", "physical_nodes", False,
              "connection data of resources IM does not create"),
    InputFile("space4ai-d/SPACE4AI-D.yaml", "space4ai_d", False,
              "the placement settings"),
)

INPUT_SCHEMAS = tuple(spec.schema for spec in INPUT_FILES)

_CODE_BY_KEYWORD = {
    "required": "AIS101",
    "additionalProperties": "AIS102",
    "unevaluatedProperties": "AIS102",
    "type": "AIS103",
    "enum": "AIS104",
    "const": "AIS104",
    "minimum": "AIS105",
    "maximum": "AIS105",
    "exclusiveMinimum": "AIS105",
    "exclusiveMaximum": "AIS105",
    "multipleOf": "AIS105",
    "pattern": "AIS106",
    "minItems": "AIS107",
    "maxItems": "AIS107",
    "minProperties": "AIS107",
    "maxProperties": "AIS107",
    "minLength": "AIS107",
    "maxLength": "AIS107",
    "items": "AIS107",  # `items: false` after prefixItems: too many items
    "uniqueItems": "AIS108",
}

# No input needs a number larger than this (1e12 s is 30 000 years, 1e12 MB an exabyte); past
# it, float arithmetic in the placement stops meaning anything (a cost of 1e300 is "infinite" to
# HiGHS) and integers stop converting to floats at all (OverflowError past ~1e308).
MAGNITUDE = 1e12

_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "text",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "empty (null)",
}


def schema_names() -> tuple[str, ...]:
    files = resources.files("compiler.schemas")
    return tuple(sorted(p.name.removesuffix(".schema.json")
                        for p in files.iterdir() if p.name.endswith(".schema.json")))


@cache
def load_schema(name: str) -> dict:
    text = resources.files("compiler.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str):
    # Imported here: jsonschema costs ~0.15 s to import and only validation needs it.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))


def _show_number(value: int | float) -> str:
    """A number as a person reads it; an integer of hundreds of digits by its length."""
    if isinstance(value, int) and abs(value) >= 10**16:
        digits = len(str(abs(value))) if abs(value) < 10**4000 else "thousands of"
        return f"{'-' if value < 0 else ''}a {digits}-digit integer"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _describe(value: Any) -> str:
    kind = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)) or value is None:
        return kind
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = _show_number(value)
        return shown if shown.endswith("-digit integer") else f"{kind} {shown}"
    shown = repr(value) if isinstance(value, str) else str(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _non_finite_text(text: str) -> bool:
    """``NaN``, ``Infinity``, ``1e999``: JSON numbers that YAML (which gives us the lines) reads
    as text. Reported as what they are, not as a type error."""
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False


def _where(path: tuple) -> str:
    if len(path) >= 2 and isinstance(path[0], str) and path[0].endswith("main.py"):
        # an annotation (the file and line are in the location): say it as it is written
        args = f"({path[2]}=...)" if len(path) >= 3 else ""
        return f"@{path[1]}{args}" + "".join(f"[{p}]" for p in path[3:])
    return pointer(path) or "the top level"


def _property_help(schema: dict) -> str:
    """A short hint from a schema's description and first example."""
    parts = []
    if schema.get("description"):
        parts.append(schema["description"].rstrip("."))
    if schema.get("examples"):
        parts.append("e.g. " + json.dumps(schema["examples"][0]))
    return "; ".join(parts)


def _leaf_errors(error) -> Iterator:
    """Expand oneOf/anyOf to the most relevant branch, so the message is concrete."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match

        yield from _leaf_errors(best_match(error.context))
    else:
        yield error


def validate_document(doc: YamlDocument, schema_name: str) -> list[Diagnostic]:
    """Every schema violation of ``doc`` as a diagnostic at the offending value's line.

    Numbers that are not finite or absurdly large are reported first, once each; the schema's
    own complaint about the same value (``inf`` above a ``maximum``) is then left out."""
    schema = load_schema(schema_name)
    out = number_diagnostics(doc, schema)
    seen = {d.location.pointer for d in out if d.location}
    for top in _validator(schema_name).iter_errors(doc.data):
        for err in _leaf_errors(top):
            if pointer(tuple(err.absolute_path)) in seen:
                continue
            out.extend(_to_diagnostics(doc, err, schema))
    return out


# ----------------------------------------------------------------------------- numbers


def numbers_in(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, int | float]]:
    """Every number in a document with its path (booleans are not numbers here)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from numbers_in(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from numbers_in(value, path + (i,))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, node


def _resolve(root: dict, node: Any) -> list[dict]:
    """``node`` with local ``$ref``s followed and ``anyOf``/``oneOf``/``allOf`` spread out."""
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) \
                if isinstance(target, dict) else {}
        return _resolve(root, target)
    out = [node]
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, ()):
            out += _resolve(root, branch)
    return out


def subschemas(root: dict, path: tuple) -> list[dict]:
    """The schemas that may apply to the value at ``path`` (a best effort walk: properties,
    patternProperties, additionalProperties, prefixItems, items)."""
    current = _resolve(root, root)
    for part in path:
        found: list[dict] = []
        for node in current:
            if isinstance(part, int) and not isinstance(part, bool):
                prefix = node.get("prefixItems", [])
                sub = prefix[part] if part < len(prefix) else node.get("items")
                found += _resolve(root, sub)
                continue
            key = str(part)
            props = node.get("properties", {})
            matched = [s for p, s in node.get("patternProperties", {}).items()
                       if re.search(p, key)]
            if key in props:
                found += _resolve(root, props[key])
            elif matched:
                for sub in matched:
                    found += _resolve(root, sub)
            else:
                found += _resolve(root, node.get("additionalProperties"))
        current = found
    return current


def _admits_numbers(node: dict) -> bool:
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "number" in kinds or "integer" in kinds


def _bounds(node: dict) -> tuple[float, float]:
    """A number schema's ``(low, high)``: its own bounds, else ±MAGNITUDE."""
    low = node.get("exclusiveMinimum", node.get("minimum", -MAGNITUDE))
    high = node.get("exclusiveMaximum", node.get("maximum", MAGNITUDE))
    return low, high


def range_text(node: dict) -> str:
    """The valid range of a number schema, e.g. ``0 < x <= 1e+06``."""
    low, high = _bounds(node)
    low_rel = "<" if "exclusiveMinimum" in node else "<="
    high_rel = "<" if "exclusiveMaximum" in node else "<="
    return f"{_show_number(low)} {low_rel} x {high_rel} {_show_number(high)}"


def number_schema(root: dict, path: tuple) -> dict:
    """The schema of the number at ``path`` (``{}`` when none says it is a number)."""
    return next((n for n in subschemas(root, path) if _admits_numbers(n)), {})


def number_diagnostics(doc: YamlDocument, schema: dict) -> list[Diagnostic]:
    """AIS109 for NaN and ±inf, AIS110 for magnitudes past the range (never OverflowError:
    integers are compared as integers, never converted to float)."""
    out = []
    for path, value in numbers_in(doc.data):
        finite = not isinstance(value, float) or math.isfinite(value)
        if finite and -MAGNITUDE <= value <= MAGNITUDE:
            continue  # the schema checks its own, narrower bounds
        candidates = subschemas(schema, path)
        if candidates and not any(_admits_numbers(n) for n in candidates):
            continue  # no number belongs here at all: the schema's type error says so
        if not finite:
            out.append(_not_finite(doc, schema, path, "NaN" if value != value
                                   else _show_number(value)))
            continue
        node = number_schema(schema, path)
        low, high = _bounds(node)
        if low <= value <= high:
            continue  # a schema that allows more (a seed, say)
        out.append(diagnostic(
            "AIS110", f"{_where(path)} is {_show_number(value)}, far beyond any sensible "
            f"value; valid range: {range_text(node)}", _range_hint(node), doc.loc(path)))
    return out


def _not_finite(doc: YamlDocument, schema: dict, path: tuple, shown: str) -> Diagnostic:
    node = number_schema(schema, path)
    return diagnostic("AIS109", f"{_where(path)} is {shown}, not a finite number; valid range: "
                      f"{range_text(node)}", _range_hint(node), doc.loc(path))


def _range_hint(node: dict) -> str:
    about = (node.get("description") or node.get("title") or "").rstrip(".")
    return f"write a finite number in {range_text(node)}" + (f" ({about})" if about else "")


def _to_diagnostics(doc: YamlDocument, err, root: dict) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    kw = err.validator
    code = _CODE_BY_KEYWORD.get(kw, "AIS100")
    schema = err.schema if isinstance(err.schema, dict) else {}
    value = err.instance
    help_ = _property_help(schema)

    if kw == "required":
        missing = [k for k in err.validator_value if not isinstance(value, dict) or k not in value]
        out = []
        props = schema.get("properties", {})
        for key in missing:
            hint = f"add '{key}'"
            sub = _property_help(props.get(key, {}))
            if sub:
                hint += f": {sub}"
            out.append(diagnostic(code, f"{_where(path)} is missing the required key '{key}'",
                                  hint, doc.loc(path, key=True)))
        return out

    if kw in ("additionalProperties", "unevaluatedProperties") and isinstance(value, dict):
        known = list(schema.get("properties", {}))
        out = []
        for key in value:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean '{close[0]}'?"
            elif known:
                hint = "allowed keys here: " + ", ".join(known)
            else:
                hint = "remove it"
            out.append(diagnostic(code, f"unknown key '{key}' in {_where(path)}", hint,
                                  doc.loc(path + (key,), key=True)))
        return out

    if kw == "pattern" and isinstance(doc.get(path), dict) and value in doc.get(path):
        # propertyNames: jsonschema reports the offending key as the instance, at the mapping.
        return [diagnostic("AIS106", f"key '{value}' in {_where(path)} is not a valid name",
                           f"names here must match the pattern {err.validator_value}",
                           doc.loc(path + (value,), key=True))]

    loc = doc.loc(path)
    if kw == "type":
        wanted = err.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        message = f"{_where(path)} must be {wanted}, not {_describe(value)}"
        if isinstance(value, str) and _admits_numbers(schema) and _non_finite_text(value):
            return [_not_finite(doc, root, path, value)]
        if isinstance(value, str) and "number" in str(wanted) and _is_number(value):
            help_ = (f"YAML 1.1 reads {value} as text (an exponent needs a dot in YAML 1.1): "
                     "write it without the exponent, e.g. 0.00005, or as 5.0e-05")
    elif kw in ("enum", "const"):
        allowed = err.validator_value if kw == "enum" else [err.validator_value]
        choices = ", ".join(json.dumps(a) for a in allowed)
        message = f"{_where(path)} is {_describe(value)}; allowed: {choices}"
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        if close:
            help_ = f"did you mean {close[0]!r}?"
    elif kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        rel = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
               "exclusiveMaximum": "<", "multipleOf": "a multiple of"}[kw]
        bound = err.validator_value
        message = (f"{_where(path)} is {_show_number(value)} but must be {rel} "
                   f"{_show_number(bound) if isinstance(bound, (int, float)) else bound}")
        if kw != "multipleOf":
            message += f"; valid range: {range_text(schema)}"
            help_ = help_ or _range_hint(schema)
    elif kw == "pattern":
        message = (f"{_where(path)} is {_describe(value)}, which does not match the "
                   f"pattern {err.validator_value}")
    elif kw in ("minItems", "minProperties", "minLength"):
        message = f"{_where(path)} is too short: at least {err.validator_value} expected"
    elif kw in ("maxItems", "maxProperties", "maxLength", "items"):
        limit = err.validator_value if kw != "items" else len(schema.get("prefixItems", []))
        message = f"{_where(path)} is too long: at most {limit} expected"
    elif kw == "uniqueItems":
        dupes = sorted({json.dumps(v, sort_keys=True) for v in value
                        if sum(json.dumps(w, sort_keys=True) == json.dumps(v, sort_keys=True)
                               for w in value) > 1})
        message = f"{_where(path)} lists {', '.join(dupes)} more than once"
        help_ = "remove the repeated item"
    else:
        message = f"{_where(path)}: {err.message}"
    return [diagnostic(code, message, help_, loc)]


# ----------------------------------------------------------------------------- editor copies

_DRAFT07 = "http://json-schema.org/draft-07/schema#"


def downlevel_draft07(schema: dict) -> dict:
    """Rewrite a 2020-12 schema that uses only the shared subset into draft-07 for editors.

    ``$defs`` -> ``definitions`` (and refs), ``prefixItems``/``items: false`` -> ``items`` list
    plus ``additionalItems: false``; the ``$id`` gains ``.draft07``.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$defs":
                out["definitions"] = walk(value)
            elif key == "$ref" and isinstance(value, str):
                out[key] = value.replace("#/$defs/", "#/definitions/")
            elif key == "prefixItems":
                out["items"] = walk(value)
            elif key == "items" and "prefixItems" in node:
                out["additionalItems"] = walk(value)
            else:
                out[key] = walk(value)
        return out

    result = walk(copy.deepcopy(schema))
    result["$schema"] = _DRAFT07
    if "$id" in result:
        result["$id"] = result["$id"].removesuffix(".json") + ".draft07.json"
    return result


def dumps(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def export_schemas(directory: Path, *, draft07: bool = False) -> list[Path]:
    """Write every schema (optionally the draft-07 editor copies) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in schema_names():
        schema = load_schema(name)
        if draft07:
            target = directory / f"{name}.draft07.json"
            target.write_text(dumps(downlevel_draft07(schema)), encoding="utf-8")
        else:
            target = directory / f"{name}.schema.json"
            target.write_text(dumps(schema), encoding="utf-8")
        written.append(target)
    return written
