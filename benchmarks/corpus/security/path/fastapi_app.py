from fastapi import FastAPI
from fastapi.responses import FileResponse

app = FastAPI()


@app.get("/static/{name}")
async def static(name: str):
    return FileResponse("static/" + name)  # vuln: path


@app.get("/logo")
async def logo():
    return FileResponse("static/logo.png")  # safe: path
