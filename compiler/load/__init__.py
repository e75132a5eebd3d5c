"""Loaders: AI-SPRINT input files and annotated sources into the model, positions kept."""
