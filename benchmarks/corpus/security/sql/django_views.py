from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import HttpResponse

from .models import Book

SORT_COLUMNS = {"title": "title", "year": "published_year"}


def books(request):
    author = request.GET.get("author")
    Book.objects.raw("SELECT * FROM books WHERE author = '%s'" % author)  # vuln: sql
    Book.objects.raw("SELECT * FROM books WHERE author = %s", [author])  # safe: sql
    with connection.cursor() as cursor:
        cursor.execute("UPDATE books SET views = views + 1 WHERE author = '" + author + "'")  # vuln: sql
        cursor.execute("UPDATE books SET views = views + 1 WHERE author = %s", [author])  # safe: sql
    order = SORT_COLUMNS.get(request.GET.get("sort"), "title")
    Book.objects.raw(f"SELECT * FROM books ORDER BY {order}")  # safe: sql
    Book.objects.annotate(score=RawSQL("SELECT %s", (request.GET["s"],)))  # safe: sql
    Book.objects.annotate(score=RawSQL("SELECT " + request.GET["s"], ()))  # vuln: sql
    return HttpResponse("ok")
