from django.http import HttpResponseRedirect
from django.shortcuts import redirect as django_redirect
from django.utils.http import url_has_allowed_host_and_scheme
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from flask import Flask, redirect, request, url_for

app = Flask(__name__)
api = FastAPI()
DESTINATIONS = {"home": "/", "docs": "/docs"}


@app.route("/login")
def login():
    nxt = request.args.get("next", "/")
    if request.args.get("plain"):
        return redirect(nxt)  # vuln: redirect
    if request.args.get("named"):
        return redirect(url_for("profile", tab=nxt))  # safe: redirect
    dest = DESTINATIONS.get(request.args.get("to"), "/")
    if dest:
        return redirect(dest)  # safe: redirect
    return redirect("/dashboard")  # safe: redirect


@app.route("/go")
def go():
    targets = {"url": request.args["u"]}
    return redirect(targets["url"])  # vuln: redirect


def django_login(request):
    nxt = request.GET.get("next", "/")
    return HttpResponseRedirect(nxt)  # vuln: redirect


def django_login_checked(request):
    nxt = request.GET.get("next", "/")
    url_has_allowed_host_and_scheme(nxt, allowed_hosts={"example.com"})
    return django_redirect(nxt)  # safe: redirect


@api.get("/out")
async def out(to: str):
    return RedirectResponse(to)  # vuln: redirect


@api.get("/home")
async def home():
    return RedirectResponse("/")  # safe: redirect
