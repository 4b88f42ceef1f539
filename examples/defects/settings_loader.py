"""Loads the YAML settings file."""

import yaml


def load_settings(text: str) -> dict[str, object]:
    return yaml.load(text)  # DEFECT: yaml.load without SafeLoader
