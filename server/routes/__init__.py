"""One blueprint per resource; ``register_blueprints`` mounts them all under /api/v1."""
from server.routes import auth, collectors, exports, inspections, meta, photos, records, reference, shops, stats, users

BLUEPRINTS = [meta.blp, reference.blp, auth.blp, users.blp, collectors.blp, photos.blp, shops.blp, records.blp,
              inspections.blp, stats.blp, exports.blp]


def register_blueprints(api):
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix="/api/v1" + blueprint.url_prefix)
