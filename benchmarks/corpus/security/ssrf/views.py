import urllib.request

import httpx
import requests
from django.http import HttpResponse
from flask import Flask, request

app = Flask(__name__)
WEBHOOKS = {"slack": "https://hooks.slack.com/services/T000", "ci": "https://ci.example.com/hook"}
API = "https://api.example.com"


def fetch(url):
    return requests.get(url, timeout=5).text  # vuln: ssrf  limit: the sink is in a helper called with request data (intra-procedural engine)


@app.route("/preview")
def preview():
    url = request.args["url"]
    page = requests.get(url, timeout=5).text  # vuln: ssrf
    page += requests.get("https://example.com/status", timeout=5).text  # safe: ssrf
    target = WEBHOOKS.get(request.args.get("hook"), WEBHOOKS["ci"])
    requests.post(target, json={"event": "preview"}, timeout=5)  # safe: ssrf
    page += urllib.request.urlopen(url, timeout=5).read().decode()  # vuln: ssrf
    page += httpx.get(request.args["feed"]).text  # vuln: ssrf
    page += fetch(url)
    return page


@app.route("/proxy")
def proxy():
    params = {"target": request.args["t"]}
    with requests.Session() as session:
        body = session.get(params["target"], timeout=5).text  # vuln: ssrf
        body += session.get(API + "/health", timeout=5).text  # safe: ssrf
    with httpx.Client() as client:
        body += client.get(request.args["u"]).text  # vuln: ssrf
    return body


def django_fetch(request):
    data = requests.get(request.GET["src"], timeout=5).content  # vuln: ssrf
    data += requests.get(API + "/v1/data", timeout=5).content  # safe: ssrf
    return HttpResponse(data)
