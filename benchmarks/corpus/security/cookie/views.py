from django.http import HttpResponse
from fastapi import FastAPI, Response
from flask import Flask, make_response

app = Flask(__name__)
api = FastAPI()


@app.route("/login")
def login():
    resp = make_response("welcome")
    resp.set_cookie("session_id", "abc123")  # vuln: cookie
    resp.set_cookie("session_id", "abc123", secure=True, httponly=True, samesite="Lax")  # safe: cookie
    resp.set_cookie("token", "abc123", secure=True)  # vuln: cookie
    resp.set_cookie("token", "abc123", httponly=True)  # vuln: cookie
    resp.set_cookie("token", "abc123", secure=False, httponly=True)  # vuln: cookie
    resp.delete_cookie("old")  # safe: cookie
    return resp


def django_login(request):
    response = HttpResponse("ok")
    response.set_cookie("sessionid", "abc", secure=True, httponly=True)  # safe: cookie
    response.set_cookie("sessionid", "abc")  # vuln: cookie
    return response


@api.get("/login")
async def fastapi_login(response: Response):
    response.set_cookie(key="session", value="abc", secure=True, httponly=True)  # safe: cookie
    response.set_cookie(key="session", value="abc")  # vuln: cookie
    return {"ok": True}
