import sqlite3

from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int, q: str | None = None):
    conn = sqlite3.connect("app.db")
    conn.execute(f"SELECT * FROM items WHERE id = {item_id}")  # safe: sql
    conn.execute(f"SELECT * FROM items WHERE name = '{q}'")  # vuln: sql
    conn.execute("SELECT * FROM items WHERE name = ?", (q,))  # safe: sql
    return {"ok": True}


def nightly_cleanup(days):
    conn = sqlite3.connect("app.db")
    conn.execute(f"DELETE FROM items WHERE age > {int(days)}")  # safe: sql
