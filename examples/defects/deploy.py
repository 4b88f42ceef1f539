"""Deploys a branch by running the deploy script."""

import subprocess


def deploy(branch: str) -> int:
    return subprocess.call("./deploy.sh " + branch, shell=True)  # DEFECT: shell=True
