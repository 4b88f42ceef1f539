import ldap
import ldap3
from ldap.filter import escape_filter_chars
from flask import Flask, request

app = Flask(__name__)
GROUPS = {"admins": "(cn=admins)", "staff": "(cn=staff)"}


@app.route("/user")
def find_user():
    uid = request.args["uid"]
    conn = ldap.initialize("ldap://ldap.example.com")
    found = conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, "(uid=" + uid + ")")  # vuln: ldap
    found += conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, "(uid=%s)" % escape_filter_chars(uid))  # safe: ldap
    found += conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, "(objectClass=person)")  # safe: ldap
    group = GROUPS.get(request.args.get("group"), "(cn=staff)")
    found += conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, group)  # safe: ldap
    return str(found)


@app.route("/user3")
def find_user3():
    server = ldap3.Server("ldap.example.com")
    conn = ldap3.Connection(server, auto_bind=True)
    name = request.args["name"]
    conn.search("dc=example,dc=com", f"(cn={name})")  # vuln: ldap
    conn.search("dc=example,dc=com", "(cn=%s)" % ldap3.utils.conv.escape_filter_chars(name))  # safe: ldap
    query = {"filter": "(mail=" + request.args["mail"] + ")"}
    conn.search(search_base="dc=example,dc=com", search_filter=query["filter"])  # vuln: ldap
    return str(conn.entries)
