"""One blueprint per resource; ``register_blueprints`` mounts them all under /api/v1."""
from server.routes import meta, reference

BLUEPRINTS = [meta.blp, reference.blp]


def register_blueprints(api):
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix="/api/v1" + blueprint.url_prefix)
