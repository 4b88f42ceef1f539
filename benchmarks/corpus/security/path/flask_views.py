import codecs
import os
from pathlib import Path

from flask import Flask, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
app.config["UPLOAD_DIR"] = "/srv/uploads"
REPORTS = {"daily": "reports/daily.csv", "weekly": "reports/weekly.csv"}
BASE = Path("/srv/files")


def read_upload(name):
    with open(os.path.join("/srv/uploads", name)) as fh:  # vuln: path  limit: the sink is in a helper called with request data (intra-procedural engine)
        return fh.read()


@app.route("/download")
def download():
    name = request.args["file"]
    with open(os.path.join(app.config["UPLOAD_DIR"], name)) as fh:  # vuln: path
        data = fh.read()
    with open(os.path.join(app.config["UPLOAD_DIR"], secure_filename(name))) as fh:  # safe: path
        data += fh.read()
    with open(os.path.join(app.config["UPLOAD_DIR"], os.path.basename(name))) as fh:  # safe: path
        data += fh.read()
    with open("static/index.html") as fh:  # safe: path
        data += fh.read()
    return data + read_upload(name)


@app.route("/files/<path:name>")
def files(name):
    text = (BASE / name).read_text()  # vuln: path
    text += (BASE / "motd.txt").read_text()  # safe: path
    report = REPORTS.get(request.args.get("kind"), "reports/daily.csv")
    text += Path(report).read_text()  # safe: path
    text += codecs.open(request.args["legacy"], encoding="latin-1").read()  # vuln: path
    return text


@app.route("/get")
def get_file():
    opts = {"path": request.args["p"]}
    if request.args.get("raw"):
        return send_file(opts["path"])  # vuln: path
    return send_from_directory(app.config["UPLOAD_DIR"], request.args["p"])  # safe: path


@app.route("/bundle")
def bundle():
    names = []
    for item in request.args.getlist("f"):
        names.append(item)
    return open(names[0]).read()  # vuln: path
