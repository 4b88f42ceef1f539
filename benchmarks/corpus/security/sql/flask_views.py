import sqlite3

from flask import Flask, request
from sqlalchemy import select, text

app = Flask(__name__)
TABLES = {"users": "users", "orders": "orders"}
DEFAULT_TABLE = "users"


def db():
    return sqlite3.connect("app.db")


def by_name_query(name):
    return "SELECT * FROM users WHERE name = '%s'" % name


def reports_of(owner):
    cur = db().cursor()
    # a helper: the engine is intra-procedural; ruff S608 finds it; merging keeps it because a parameter reaches the sink
    cur.execute("SELECT * FROM report WHERE owner = '%s'" % owner)  # vuln: sql
    return cur.fetchall()


@app.route("/users")
def users():
    name = request.args.get("name", "")
    cur = db().cursor()
    cur.execute(f"SELECT * FROM users WHERE name = '{name}'")  # vuln: sql
    cur.execute("SELECT * FROM users WHERE name = ?", (name,))  # safe: sql
    cur.execute(f"SELECT * FROM {DEFAULT_TABLE} WHERE active = 1")  # safe: sql
    cur.execute("SELECT * FROM users ORDER BY name")  # safe: sql
    cur.execute(f"SELECT * FROM users WHERE name = 'admin'")  # safe: sql
    cur.execute(by_name_query(name))  # vuln: sql
    return "ok"


@app.route("/orders")
def orders():
    filters = {"status": request.form["status"]}
    cur = db().cursor()
    cur.execute("SELECT * FROM orders WHERE status = '" + filters["status"] + "'")  # vuln: sql
    parts = ["SELECT * FROM orders WHERE id IN ("]
    parts.append(request.form["ids"])
    parts.append(")")
    cur.executescript("".join(parts))  # vuln: sql
    order_id = int(request.form["id"])
    cur.execute("SELECT * FROM orders WHERE id = %d" % order_id)  # safe: sql
    table = TABLES.get(request.args.get("table"), "users")
    cur.execute(f"SELECT count(*) FROM {table}")  # safe: sql
    return "ok"


@app.route("/report")
def report():
    return str(reports_of(request.args["owner"]))


@app.route("/search")
def search():
    term = request.args["q"]
    with db() as conn:
        conn.execute(text("SELECT * FROM items WHERE title LIKE '%" + term + "%'"))  # vuln: sql
        conn.execute(text("SELECT * FROM items WHERE title LIKE :t"), {"t": term})  # safe: sql
        conn.execute(select(Item).where(Item.title == term))  # safe: sql
    return "ok"


class Item:
    title = None
