"""Prefect Block types of ai-conductor: credentials and configs, secrets as ``SecretStr``.

Register them with ``prefect block register -m ai_conductor.blocks.<module>``, or just
``Block.save(name)``, which registers the type too.
"""
