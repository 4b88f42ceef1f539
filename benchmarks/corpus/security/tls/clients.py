import httpx
import requests

STATUS_URL = "https://status.example.com/api"


def poll():
    a = requests.get(STATUS_URL, verify=False, timeout=5)  # vuln: tls
    b = requests.get(STATUS_URL, verify=True, timeout=5)  # safe: tls
    c = requests.get(STATUS_URL, verify="/etc/ssl/ca.pem", timeout=5)  # safe: tls
    d = httpx.get(STATUS_URL, verify=False)  # vuln: tls
    e = httpx.Client(verify=False)  # vuln: tls
    return a, b, c, d, e
