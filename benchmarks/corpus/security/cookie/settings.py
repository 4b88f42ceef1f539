SESSION_COOKIE_SECURE = False  # vuln: cookie
CSRF_COOKIE_SECURE = True  # safe: cookie
SESSION_COOKIE_HTTPONLY = True  # safe: cookie
DEBUG = False  # safe: cookie
