"""`GET /api/health`: is the database (and the queue, when Celery executes runs) up?"""

from django.db import connection
from django.http import JsonResponse


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def health(request):
    checks = {"database": "up" if check_database() else "down"}
    ok = all(v == "up" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", "checks": checks},
                        status=200 if ok else 503)
