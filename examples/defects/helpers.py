"""Small string helpers."""

import os  # DEFECT: unused import


def shout(text: str) -> str:
    return text.upper() + "!"
