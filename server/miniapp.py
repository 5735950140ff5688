"""The mini-program's H5 build at ``/m/`` (API.md "Mini-program"): served from ``MINIAPP_H5_DIR``
[``miniprogram/dist/h5``] when that has been built (``cd miniprogram && npm ci && npm run build:h5``),
on the same origin as the API, so its API base is ``/api/v1``.  Node never runs on the server: these
are files."""
from pathlib import Path

from flask import Blueprint, current_app, send_from_directory

from server.errors import fail

BUILT = Path(__file__).resolve().parent.parent / "miniprogram" / "dist" / "h5"
bp = Blueprint("miniapp", __name__, url_prefix="/m")


def folder():
    return Path(current_app.config["MINIAPP_H5_DIR"] or BUILT)


@bp.route("/")
@bp.route("/<path:name>")
def files(name="index.html"):
    root = folder()
    if not (root / "index.html").is_file():
        fail(404, "小程序 H5 版本尚未构建：cd miniprogram && npm ci && npm run build:h5")
    response = send_from_directory(root, name if (root / name).is_file() else "index.html")
    # The page itself is read again on every visit (it names the hashed bundles); bundles are kept.
    response.headers["Cache-Control"] = "no-cache" if response.mimetype == "text/html" else "public, max-age=86400"
    return response
