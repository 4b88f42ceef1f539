"""Parses port numbers from configuration strings."""


def parse_port(text: str) -> int:
    try:
        return int(text)
    except:  # DEFECT: bare except
        return 8080
