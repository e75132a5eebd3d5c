"""The edges that talk to running systems: the Infrastructure Manager (``im/``), OSCAR
(``oscar``), the AMS metrics stores (``metrics/``), the reconciler (``reconcile``: the cycle;
``apply``: a commit onto IM and OSCAR; ``triggers``: when to re-place) and the local backend
``aisprint up`` runs (``local/``)."""
