import html

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/page")
async def page(title: str):
    return HTMLResponse("<h1>" + title + "</h1>")  # vuln: xss


@app.get("/page-safe")
async def page_safe(title: str):
    return HTMLResponse("<h1>" + html.escape(title) + "</h1>")  # safe: xss


@app.get("/about")
async def about():
    return HTMLResponse("<h1>About</h1>")  # safe: xss
