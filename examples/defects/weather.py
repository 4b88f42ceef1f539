"""Fetches the forecast from a web API."""

import requests

API = "https://api.example.com/weather"


def forecast(city: str) -> dict[str, object]:
    response = requests.get(API, params={"q": city})  # DEFECT: no timeout
    return response.json()
