from xml.etree import ElementTree

from flask import Flask, request
from lxml import etree

app = Flask(__name__)
TREE = etree.parse("users.xml")
FIELDS = {"name": "//user/name", "mail": "//user/mail"}


@app.route("/lookup")
def lookup():
    name = request.args["name"]
    hits = TREE.xpath("//user[@name='" + name + "']")  # vuln: xpath
    hits += TREE.xpath("//user[@name=$name]", name=name)  # safe: xpath
    hits += TREE.xpath("//user[@active='true']")  # safe: xpath
    hits += TREE.xpath(FIELDS.get(request.args.get("field"), "//user/name"))  # safe: xpath
    finder = etree.XPath("//user[@role='%s']" % request.args["role"])  # vuln: xpath
    return str([hits, finder(TREE)])


@app.route("/lookup-et")
def lookup_et():
    root = ElementTree.parse("users.xml")
    node = root.find(".//user[@name='" + request.args["name"] + "']")  # vuln: xpath
    same = root.find(".//user")  # safe: xpath
    return str([node, same])
