"""The edges that talk to running systems: the Infrastructure Manager (``im``), a local IM
server for tests and ``aisprint up`` (``im_server``), and IM's own TOSCA translation check
(``im_translate``)."""
