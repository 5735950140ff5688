"""One blueprint per resource, each in the module named like its URLs; ``register_blueprints``
mounts them all under /api/v1."""
from server.routes import (auth, cases, change_requests, cleanings, collectors, complaints, exports, handovers,
                           inspections, members, meta, notifications, patrol, photos, rectifications, reference,
                           shops, stats, users)

BLUEPRINTS = [meta.blp, reference.blp, auth.blp, users.blp, collectors.blp, photos.blp, shops.blp, members.blp,
              change_requests.blp, cleanings.blp, handovers.blp, patrol.blp, inspections.blp, rectifications.blp,
              cases.blp, complaints.blp, stats.blp, exports.blp, notifications.blp]


def register_blueprints(api):
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix="/api/v1" + blueprint.url_prefix)
