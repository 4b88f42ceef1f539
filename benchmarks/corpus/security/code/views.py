import ast
import json

from flask import Flask, request
from fastapi import FastAPI

app = Flask(__name__)
api = FastAPI()
OPERATIONS = {"add": "a + b", "mul": "a * b"}


def evaluate(expression):
    # a helper: the engine is intra-procedural; ruff S307 finds it; merging keeps it because a parameter reaches the sink
    return eval(expression)  # vuln: code


@app.route("/calc")
def calc():
    expr = request.args["expr"]
    result = eval(expr)  # vuln: code
    value = ast.literal_eval(expr)  # safe: code
    data = json.loads(expr)  # safe: code
    fixed = eval("1 + 2")  # safe: code
    formula = OPERATIONS.get(request.args.get("op"), "0")
    scoped = eval(formula, {"a": 1, "b": 2})  # safe: code
    return str([result, value, data, fixed, scoped, evaluate(expr)])


@app.route("/hook", methods=["POST"])
def hook():
    body = request.get_json()
    handlers = [body["code"]]
    exec(handlers[0])  # vuln: code
    exec(compile("print('ok')", "<hook>", "exec"))  # safe: code
    return "ok"


@api.post("/template")
async def template(src: str):
    code = compile(src, "<user>", "eval")  # vuln: code
    return {"code": str(code)}
