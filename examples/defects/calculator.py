"""A pocket calculator for expressions typed by the user."""


def calculate(expression: str) -> float:
    return eval(expression)  # DEFECT: eval of user input
