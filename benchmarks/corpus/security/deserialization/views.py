import json
import marshal
import pickle

import jsonpickle
import yaml
from flask import Flask, request

app = Flask(__name__)
with open("defaults.pickle", "rb") as fh:
    DEFAULTS = pickle.load(fh)  # safe: deserialization


def restore(blob):
    # a helper: the engine is intra-procedural; ruff S301 finds it; merging keeps it because a parameter reaches the sink
    return pickle.loads(blob)  # vuln: deserialization


@app.route("/session", methods=["POST"])
def session_restore():
    blob = request.get_data()
    state = pickle.loads(blob)  # vuln: deserialization
    parsed = json.loads(blob)  # safe: deserialization
    code = marshal.loads(request.files["code"].read())  # vuln: deserialization
    obj = jsonpickle.decode(request.form["obj"])  # vuln: deserialization
    return str([state, parsed, code, obj, restore(blob)])


@app.route("/config", methods=["POST"])
def config_upload():
    text = request.form["yaml"]
    unsafe = yaml.load(text, Loader=yaml.Loader)  # vuln: deserialization
    loaded = yaml.load(text, Loader=yaml.SafeLoader)  # safe: deserialization
    safe = yaml.safe_load(text)  # safe: deserialization
    payload = {"doc": text}
    full = yaml.unsafe_load(payload["doc"])  # vuln: deserialization
    static = yaml.load(open("settings.yaml"), Loader=yaml.Loader)  # safe: deserialization
    return str([unsafe, loaded, safe, full, static])
