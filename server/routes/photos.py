import io

from flask import current_app, send_file

from server.api import Blueprint
from server.auth import authenticate, current_user, login_required
from server.errors import fail
from server.extensions import db
from server.models.photo import Photo
from server.schemas.photos import PhotoSchema, PhotoUploadSchema, SignedLinkSchema
from server.services import photos
from server.storage import storage_for

blp = Blueprint("photos", __name__, url_prefix="", description="照片证据")


@blp.route("/photos", methods=["POST"])
@login_required
@blp.arguments(PhotoUploadSchema, location="multipart")
@blp.response(201, PhotoSchema)
def upload(form):
    """上传一张照片（JPEG/PNG/WebP，≤10 MB，≤4000 万像素）."""
    return photos.upload(current_user(), form.pop("file"), form)


def _serve(photo_id, variant, args):
    if "sig" in args or "exp" in args:
        photo = db.session.get(Photo, photo_id)
        if photo is None or not photos.signature_valid(photo_id, variant, args.get("exp"), args.get("sig")):
            fail(404, "照片不存在或链接已过期")
    else:
        photo = photos.get_visible(authenticate(), photo_id)
    name = photo.thumb_name if variant == "thumb" else photo.display_name
    with storage_for(current_app).open(name) as handle:  # copies are small (≤ 1600 px JPEG)
        data = handle.read()
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=600,
                         etag=f"{photo.sha256[:16]}-{variant}")
    response.cache_control.private = True
    response.cache_control.public = False
    return response


@blp.route("/photos/<int:photo_id>")
@blp.arguments(SignedLinkSchema, location="query")
@blp.response(200, content_type="image/jpeg")
def get_photo(args, photo_id):
    """照片（展示尺寸，已去除元数据）：签名链接或有权查看的用户."""
    return _serve(photo_id, "display", args)


@blp.route("/photos/<int:photo_id>/thumb")
@blp.arguments(SignedLinkSchema, location="query")
@blp.response(200, content_type="image/jpeg")
def get_thumb(args, photo_id):
    """照片缩略图（≤320 px）."""
    return _serve(photo_id, "thumb", args)
