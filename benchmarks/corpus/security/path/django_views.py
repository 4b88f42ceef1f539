import os

from django.conf import settings
from django.http import FileResponse, HttpResponse


def media(request):
    name = request.GET["name"]
    return FileResponse(open(os.path.join(settings.MEDIA_ROOT, name), "rb"))  # vuln: path


def media_safe(request):
    name = os.path.basename(request.GET["name"])
    return FileResponse(open(os.path.join(settings.MEDIA_ROOT, name), "rb"))  # safe: path


def delete(request):
    os.remove(os.path.join(settings.MEDIA_ROOT, request.POST["name"]))  # vuln: path
    os.remove(os.path.join(settings.MEDIA_ROOT, "cache.tmp"))  # safe: path
    return HttpResponse("deleted")
