import subprocess

from django.http import HttpResponse


def convert(request):
    name = request.POST["file"]
    subprocess.run("convert uploads/%s out.png" % name, shell=True, check=True)  # vuln: command
    subprocess.run(["convert", "uploads/" + name, "out.png"], check=True)  # safe: command
    return HttpResponse("done")


def nightly(days):
    subprocess.run(f"find /tmp -mtime +{int(days)} -delete", shell=True, check=True)  # safe: command
