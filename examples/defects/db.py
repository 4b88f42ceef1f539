"""User lookups against a SQLite database."""

import sqlite3


def find_user(conn: sqlite3.Connection, name: str) -> list[tuple[str, str]]:
    query = "SELECT id, email FROM users WHERE name = '%s'" % name  # DEFECT: SQL injection
    return conn.execute(query).fetchall()
