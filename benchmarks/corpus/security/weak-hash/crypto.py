import hashlib

from flask import Flask, request

app = Flask(__name__)


def store_password(password):
    digest = hashlib.md5(password.encode()).hexdigest()  # vuln: weak-hash
    strong = hashlib.sha256(password.encode()).hexdigest()  # safe: weak-hash
    return digest, strong


def sign(data):
    return hashlib.new("sha1", data).hexdigest()  # vuln: weak-hash


def etag(body):
    return hashlib.md5(body, usedforsecurity=False).hexdigest()  # safe: weak-hash


def checksum(body):
    return hashlib.new("sha256", body).hexdigest()  # safe: weak-hash


@app.route("/token")
def token():
    return hashlib.sha1(request.args["seed"].encode()).hexdigest()  # vuln: weak-hash


def cache_key(name):
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()  # safe: weak-hash
