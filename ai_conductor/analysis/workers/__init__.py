"""Scripts the analyzer runs under another interpreter (standard library and the tool only).

They run as ``python path/to/script.py``, so this folder is their ``sys.path[0]``: nothing here
may be named like a module they import (``radon.py`` beside them would hide the radon package).
"""
