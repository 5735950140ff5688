import io

from flask import redirect, send_file

from server.api import Blueprint
from server.auth import authenticate, current_user, login_required
from server.schemas.photos import PhotoSchema, PhotoUploadSchema, SignedLinkSchema
from server.services import photos

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
        data, etag, url = photos.signed_copy(photo_id, variant, args.get("exp"), args.get("sig"))
    else:
        data, etag, url = photos.copy_for(authenticate(), photo_id, variant)
    if url:  # PHOTO_REDIRECT: the store serves the bytes; the redirect itself must not be cached
        response = redirect(url, 302)
        response.cache_control.no_store = True
        return response
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=600, etag=etag)
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
