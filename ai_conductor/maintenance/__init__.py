"""Maintenance operations: Airbyte sync, Weaviate initialization, context sync, pruning.

Each is a plain library call (no Prefect); ``ai_conductor.flows.maintenance`` wraps them as
flows and ``conductor maintenance`` runs them from the command line.
"""
