"""The design tree, ``aisprint/designs/``: the code of every design of every component.

* ``<component>/base/``: the component's code as written (``src/<folder>/``), where every
  other target builds and runs it from;
* ``<component>/partition<i>_<n>/``: the two halves of each cut ``aisprint design`` generated
  (inputs of the application, copied as they are);
* ``script.sh`` beside each design's code: what OSCAR runs for every file arriving in the
  service's input bucket (OSCAR FDL names it, the Docker images copy it);
* ``component_partitions.yaml`` (§1.7): every component's designs, base first.

The other emitters add their build files beside the code (``targets.docker``).
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from compiler.diagnostics import Diagnostic
from compiler.layout import BASE_DESIGN, COMPONENT_PARTITIONS, DESIGNS, partition_design
from compiler.layout import design as design_folder
from targets import EmitContext
from targets.check import CompiledTree, rejected

SCRIPT = "script.sh"


def oscar_script(unit: str) -> bytes:
    """What OSCAR runs for every file arriving in a service's input bucket."""
    return (
        "#!/bin/sh\n"
        "# OSCAR runs this script for each file that arrives in the service's input bucket:\n"
        "# the component's main.py reads it and writes its results where OSCAR uploads them.\n"
        "set -e\n"
        f"cd /opt/{unit}\n"
        'exec python main.py "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR"\n').encode()


def design_tree(app, inputs: Mapping[str, bytes], cuts: Mapping[str, tuple[str, ...]]
                ) -> dict[str, bytes]:
    """Every file of ``aisprint/designs/`` for the application's ``inputs`` (relative path ->
    bytes) and the cuts whose halves were generated."""
    files: dict[str, bytes] = {}
    partitions: dict[str, dict] = {}
    for component in app.dag.components:
        ann = app.annotations_of(component)
        source = f"src/{ann.folder if ann else component}/"
        base = design_folder(component)
        for rel, data in inputs.items():
            if rel.startswith(source):
                files[f"{base}/{rel[len(source):]}"] = data
        files[f"{base}/{SCRIPT}"] = oscar_script(component)
        designs = [BASE_DESIGN]
        for cut in cuts.get(component, ()):
            for part in (1, 2):
                name = partition_design(cut, part)
                designs.append(name)
                folder = design_folder(component, name) + "/"
                files.update((rel, data) for rel, data in inputs.items()
                             if rel.startswith(folder))
                files[folder + SCRIPT] = oscar_script(f"{component}_{name}")
        partitions[component] = {"partitions": designs}
    files[COMPONENT_PARTITIONS] = yaml.safe_dump(
        {"components": partitions}, sort_keys=False).encode()
    return files


class DesignTreeEmitter:
    name = "designs"

    def emit(self, context: EmitContext) -> dict[str, bytes]:
        return design_tree(context.application, context.inputs, context.cuts)

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        """component_partitions.yaml lists every design the tree has a folder for, and each
        listed design has the script OSCAR runs."""
        if COMPONENT_PARTITIONS not in tree.files:
            return ()  # no design tree in this selection of targets
        try:
            listed = {(component, design)
                      for component, entry in yaml.safe_load(
                          tree.files[COMPONENT_PARTITIONS])["components"].items()
                      for design in entry["partitions"]}
        except (yaml.YAMLError, TypeError, KeyError, AttributeError) as exc:
            return (rejected(COMPONENT_PARTITIONS, f"it does not list the designs: {exc}"),)
        found = {tuple(path.split("/")[2:4]) for path, _ in tree.matching(
            lambda path: path.startswith(DESIGNS + "/") and path.count("/") >= 4)}
        problems = [rejected(design_folder(c, d), "its design is not listed in "
                             "component_partitions.yaml") for c, d in sorted(found - listed)]
        problems += [rejected(design_folder(c, d), f"the design has no {SCRIPT} for OSCAR to "
                              "run") for c, d in sorted(listed)
                     if f"{design_folder(c, d)}/{SCRIPT}" not in tree.files]
        return tuple(problems)


EMITTER = DesignTreeEmitter()
