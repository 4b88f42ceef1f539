"""Password storage."""

import hashlib


def hash_password(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()  # DEFECT: md5 for a password
