from flask import Flask, request, session

app = Flask(__name__)
ROLES = {"viewer": "viewer", "editor": "editor"}


@app.route("/prefs", methods=["POST"])
def prefs():
    session["role"] = request.form["role"]  # vuln: trust-boundary
    session["theme"] = "dark"  # safe: trust-boundary
    session["role2"] = ROLES.get(request.form.get("role"), "viewer")  # safe: trust-boundary
    data = {"user": request.form["user"]}
    session["user"] = data["user"]  # vuln: trust-boundary
    session.update({"lang": request.args["lang"]})  # vuln: trust-boundary
    return "ok"


def django_prefs(request):
    request.session["cart"] = request.POST["cart"]  # vuln: trust-boundary
    request.session["visits"] = 1  # safe: trust-boundary
    return None
