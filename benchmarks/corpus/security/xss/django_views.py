from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe


def search(request):
    q = request.GET.get("q", "")
    return HttpResponse("<p>Results for " + q + "</p>")  # vuln: xss


def search_escaped(request):
    q = request.GET.get("q", "")
    return HttpResponse("<p>Results for " + escape(q) + "</p>")  # safe: xss


def search_html(request):
    q = request.GET.get("q", "")
    return HttpResponse(format_html("<p>Results for {}</p>", q))  # safe: xss


def search_template(request):
    return render(request, "search.html", {"q": request.GET.get("q")})  # safe: xss


def search_json(request):
    return JsonResponse({"q": request.GET.get("q")})  # safe: xss


def banner(request):
    return HttpResponse(mark_safe("<b>" + request.GET["msg"] + "</b>"))  # vuln: xss


def static_banner(request):
    return HttpResponse(mark_safe("<b>Welcome</b>"))  # safe: xss
