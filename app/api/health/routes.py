from app.api.blueprint import Blueprint
from app.api.health.schemas import HealthSchema, ReadinessSchema
from app.extensions import services
from app.security import public
from app.services.readiness import check_readiness

blp = Blueprint("health", __name__, description="Liveness and readiness")


@blp.route("/")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@public
def health():
    """Liveness: 200 whenever the app can answer."""
    return {"status": "ok"}


@blp.route("/ready")
@blp.doc(security=[], responses={"503": {"description": "A dependency is down; `checks` names it"}})
@blp.response(200, ReadinessSchema)
@public
def ready():
    """Readiness: the database, the cache directory and SIP provisioning.

    Ready when the database answers, the cache directory is writable and, with inbound SIP configured,
    its LiveKit trunk and dispatch rule are provisioned."""
    app_services = services()
    status = app_services.sip_provisioning
    checks = check_readiness(app_services.database, app_services.settings.cache.path, status.check if status else None)
    ok = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
