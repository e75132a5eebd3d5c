"""Profiling: run units on real inputs, fit performance models (OSCAR-P + aMLLibrary)."""
