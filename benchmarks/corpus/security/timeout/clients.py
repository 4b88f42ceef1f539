import httpx
import requests

STATUS_URL = "https://status.example.com/api"


def poll():
    a = requests.get(STATUS_URL)  # vuln: timeout
    b = requests.get(STATUS_URL, timeout=10)  # safe: timeout
    c = requests.post(STATUS_URL, json={}, timeout=None)  # vuln: timeout
    d = httpx.get(STATUS_URL)  # safe: timeout
    e = httpx.get(STATUS_URL, timeout=None)  # vuln: timeout
    return a, b, c, d, e
