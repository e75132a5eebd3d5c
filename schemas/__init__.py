"""JSON Schemas (draft 2020-12) of every input file; installed as the package compiler.schemas.

`editor/` holds draft-07 copies for yaml-language-server (kept in sync by a test)."""
