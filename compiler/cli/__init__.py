"""The command line: thin Typer verbs over ``compiler.api``, one module per verb group."""
