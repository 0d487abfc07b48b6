"""Insights: pure functions over the model and CI configuration (no I/O, no Textual).

``maturity`` measures a project against the continuous deployment maturity model,
``dora`` computes the four DORA metrics from deployment history, ``rollback_safety``
finds the schema migrations a rollback would cross, and ``health_guard`` decides when a
falling success rate should make the on-call engineer roll back.
"""
