"""GitOps: the one writer of deployment repositories, and plans of what a write would change.

``repo.write`` commits a compiled tree (atomically, under a lock, compare-and-swap on the
branch head); ``swap`` replaces the owned paths of a plain folder the same crash-safe way;
``plan.make_plan`` compares two compiled trees into a frozen ``Plan``, which the console
(``compiler.console.plan``) renders for a terminal, a pull request (markdown) or a machine (JSON).
"""
