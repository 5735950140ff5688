"""Secrets, one-time codes, personal-data encryption and masking, log-safe text."""
import base64
import hashlib
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
CODE_LENGTH = 16  # 80 bits


def new_token():
    """An opaque bearer token (32 random bytes) and the hash we store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_code():
    """A one-time code (invitation, claim, join): shown once, stored only as a digest."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_digest(code):
    """Digest of a typed code, forgiving case, spaces and dashes."""
    return digest(re.sub(r"[\s-]", "", code).upper())


def _fernet():
    key = current_app.config.get("DATA_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    derived = hashlib.sha256(b"personal-data-encryption:" + key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(text):
    return None if text is None else _fernet().encrypt(text.encode("utf-8"))


def decrypt(blob):
    if blob is None:
        return None
    try:
        return _fernet().decrypt(bytes(blob)).decode("utf-8")
    except InvalidToken:
        current_app.logger.error("personal data could not be decrypted: was the key changed?")
        return None


def seal(data):
    """Bytes encrypted at rest with the personal-data key (stored answers may hold one-time codes)."""
    return _fernet().encrypt(bytes(data))


def unseal(blob):
    """What :func:`seal` stored; bytes stored before sealing existed come back as they are."""
    try:
        return _fernet().decrypt(bytes(blob))
    except InvalidToken:
        return bytes(blob)


def mask_phone(phone):
    """138****1234: the first three and the last four digits."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


PASSWORD_MIN_LENGTH = 10


def password_problem(password, username=None):
    """Why ``password`` is too weak, in Chinese, or None when it is strong enough."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"密码至少 {PASSWORD_MIN_LENGTH} 位"
    if len(password) > 128:
        return "密码不能超过 128 位"
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    if classes < 3:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    return None


def for_log(value, limit=200):
    """User-supplied text made safe for one log line: control characters escaped."""
    text = str(value)[:limit]
    return text.encode("unicode_escape").decode("ascii")
