import xml.sax
from xml.dom import minidom
from xml.etree import ElementTree

import defusedxml.ElementTree
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/import", methods=["POST"])
def import_xml():
    data = request.get_data()
    doc = etree.fromstring(data)  # vuln: xxe
    hardened = etree.XMLParser(resolve_entities=False, no_network=True)
    safe_doc = etree.fromstring(data, hardened)  # safe: xxe
    defused = defusedxml.ElementTree.fromstring(data)  # safe: xxe
    stdlib = ElementTree.fromstring(data)  # safe: xxe
    dom = minidom.parseString(data)  # safe: xxe
    local = etree.parse("catalog.xml")  # safe: xxe
    return str([doc, safe_doc, defused, stdlib, dom, local])


@app.route("/import2", methods=["POST"])
def import_resolving():
    parser = etree.XMLParser(resolve_entities=True)
    doc = etree.fromstring(request.get_data(), parser)  # vuln: xxe
    return str(doc)


@app.route("/sax", methods=["POST"])
def sax_import():
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, True)
    parser.parse(request.files["doc"])  # vuln: xxe
    default_parser = xml.sax.make_parser()
    default_parser.parse(request.files["doc"])  # safe: xxe
    return "ok"
