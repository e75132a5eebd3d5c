"""The edges that talk to running systems: the Infrastructure Manager (``im`` client,
``im_deploy``, a local ``im_server``, IM's own translation check ``im_translate``), OSCAR,
metrics and the reconciler's triggers."""
