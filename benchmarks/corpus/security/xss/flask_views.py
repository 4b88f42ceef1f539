from flask import Flask, jsonify, make_response, render_template, render_template_string, request
from jinja2 import Template
from markupsafe import Markup, escape

app = Flask(__name__)
GREETINGS = {"en": "Hello", "fr": "Bonjour"}


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return "<h1>Hello " + name + "</h1>"  # vuln: xss


@app.route("/hello-safe")
def hello_safe():
    name = request.args.get("name", "")
    return "<h1>Hello " + escape(name) + "</h1>"  # safe: xss


@app.route("/greet")
def greet():
    word = GREETINGS.get(request.args.get("lang"), "Hello")
    return f"<p>{word}</p>"  # safe: xss


@app.route("/profile")
def profile():
    bio = request.form["bio"]
    page = render_template("profile.html", bio=bio)  # safe: xss
    badge = Markup("<b>%s</b>" % bio)  # vuln: xss
    safe_badge = Markup("<b>%s</b>") % bio  # safe: xss
    return page + badge + safe_badge


@app.route("/api/profile")
def api_profile():
    return jsonify({"bio": request.args["bio"]})  # safe: xss


@app.route("/card")
def card():
    parts = ["<div>"]
    parts.append(request.args["title"])
    parts.append("</div>")
    return make_response("".join(parts))  # vuln: xss


@app.route("/render")
def render():
    tpl = request.args["tpl"]
    out = render_template_string(tpl)  # vuln: xss
    out += render_template_string("<p>{{ name }}</p>", name=tpl)  # safe: xss
    out += Template(request.args["t2"]).render()  # vuln: xss
    return out
