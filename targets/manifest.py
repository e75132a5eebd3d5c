"""The manifest, ``aisprint/manifest.json``: the registry's last step.

It lists every artifact the other emitters wrote with its digest and size, the digest of every
input it was compiled from, and how the placement was made (``compiler.manifest`` is the
format). So it runs over the artifacts, once every other emitter has (``targets.emit_tree``),
and only for a compile: a context without a placement record (the reconciler re-emitting one
deployment) gets none.
"""

from __future__ import annotations

from collections.abc import Mapping

from compiler import __version__
from compiler.diagnostics import Diagnostic
from compiler.layout import MANIFEST
from compiler.manifest import Manifest
from targets import EmitContext
from targets.check import CompiledTree, schema_problems


class ManifestEmitter:
    name = "manifest"

    def emit_over(self, context: EmitContext, artifacts: Mapping[str, bytes]
                  ) -> dict[str, bytes]:
        if context.placement is None:
            return {}
        manifest = Manifest.of(artifacts, context.inputs, tool_version=__version__,
                               placement=context.placement)
        return {MANIFEST: manifest.to_bytes()}

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        """The manifest meets its schema (schemas/manifest.schema.json)."""
        if MANIFEST not in tree.files:
            return ()
        return tuple(schema_problems(MANIFEST, tree.files[MANIFEST], "manifest"))


EMITTER = ManifestEmitter()
