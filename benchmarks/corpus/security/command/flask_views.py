import os
import shlex
import subprocess

from flask import Flask, request

app = Flask(__name__)
TOOLS = {"disk": ["df", "-h"], "uptime": ["uptime"]}
ARCHIVE_DIR = "/srv/archive"


def grep_command(pattern):
    return "grep -r " + pattern + " /var/log/app"


def ping(host):
    # a helper: the engine is intra-procedural; ruff S605 finds it; merging keeps it because a parameter reaches the sink
    return os.system("ping -c 1 " + host)  # vuln: command


@app.route("/ping")
def ping_view():
    host = request.args["host"]
    os.system("ping -c 1 " + host)  # vuln: command
    os.system("ping -c 1 " + shlex.quote(host))  # safe: command
    os.system("ping -c 1 localhost")  # safe: command
    subprocess.run(["ping", "-c", "1", host], check=False)  # safe: command
    subprocess.run(f"ping -c 1 {host}", shell=True, check=False)  # vuln: command
    subprocess.run("uptime", shell=True, check=False)  # safe: command
    return str(ping(host))


@app.route("/logs")
def logs():
    out = subprocess.check_output(grep_command(request.args["q"]), shell=True)  # vuln: command
    opts = {"pattern": request.args["q"]}
    stream = os.popen("grep -r %s /var/log" % opts["pattern"])  # vuln: command
    argv = ["tar", "czf", "/tmp/out.tgz"]
    argv.append(request.args["dir"])
    subprocess.call(" ".join(argv), shell=True)  # vuln: command
    tool = TOOLS.get(request.args.get("tool"), ["true"])
    subprocess.run(tool, check=False)  # safe: command
    subprocess.run(f"ls {ARCHIVE_DIR}", shell=True, check=False)  # safe: command
    return out + stream.read().encode()


@app.route("/run")
def run_program():
    program = request.form["program"]
    subprocess.Popen([program, "--version"])  # vuln: command
    subprocess.Popen(["/usr/bin/env", "--version"])  # safe: command
    return "started"
