"""Restores cached objects sent by clients."""

import pickle


def restore(blob: bytes) -> object:
    return pickle.loads(blob)  # DEFECT: pickle.loads of untrusted data
