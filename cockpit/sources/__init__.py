"""All network reads and writes, one module per system, and the pure JSON → model parsers.

``gitlab``, ``kube`` and ``prometheus`` do the I/O; ``gitlab_parse``, ``rollouts`` and
``prometheus_parse`` turn API JSON into :mod:`cockpit.model` objects without any I/O, so
they are tested on real captured payloads. Every failure surfaces as
:class:`~cockpit.sources.errors.SourceError` with words a person can act on.
"""
