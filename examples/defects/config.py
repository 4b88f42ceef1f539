"""Service configuration."""

DATABASE_HOST = "db.internal"
password = "hunter2-production"  # DEFECT: hard-coded password
secret = "sk_live_51HxAbCdEfGh"  # DEFECT: hard-coded secret
