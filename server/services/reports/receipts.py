"""Signed export receipts (导出回执): evidence that stands up outside the system.

Every export opens a receipt before its first byte (who, which kind and format, the filters, the
audit chain's head) and completes it after its last: the row count, the SHA-256 and size of exactly
the bytes served — hashed while they stream, with no second pass — and an Ed25519 signature over
the receipt's canonical JSON (keys sorted, no whitespace, UTF-8, integers and strings only: the
bytes RFC 8785 gives for such values).  The completion is itself an audit entry, so the file's hash
enters the hash chain.  A download that stops early leaves its receipt ``complete: false``.

Anyone with the file, the receipt and the public key (``GET /exports/public-key``) can check it
offline; :func:`verify` is what ``flask --app wsgi exports verify`` runs.
"""
import base64
import hashlib
import json
from types import SimpleNamespace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from sqlalchemy import select

from server.clock import to_shanghai, utcnow
from server.database import writing
from server.extensions import db
from server.models.audit import AuditEntry
from server.models.receipt import ExportReceipt
from server.services import audit, scope

FORMATS = {"csv": "CSV", "xlsx": "XLSX", "geojson": "GeoJSON"}


# --- the key ----------------------------------------------------------------------------------

def private_key(config=None):
    """The export signing key: ``EXPORT_SIGNING_KEY`` (base64 of the raw 32-byte Ed25519 private
    key), or one derived from ``SECRET_KEY`` when it is unset."""
    config = config or current_app.config
    configured = config.get("EXPORT_SIGNING_KEY")
    if configured:
        raw = base64.b64decode(configured, validate=True)
    else:
        raw = hashlib.sha256(b"export-signing-key:" + config["SECRET_KEY"].encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_bytes(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(public_raw):
    """A short name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_key():
    """``{"key_id", "public_key"}``: what a verifier needs (the key base64, raw 32 bytes)."""
    raw = public_bytes(private_key())
    return {"key_id": key_id_of(raw), "public_key": base64.b64encode(raw).decode()}


# --- the document -----------------------------------------------------------------------------

def canonical(document):
    """The bytes that are signed: the receipt without ``signature``, canonical JSON."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


FIELDS = frozenset(("id", "kind", "format", "filters", "rows", "sha256", "bytes", "complete", "created_at",
                    "exported_by", "audit_head", "key_id", "signature"))


class _Repeated(ValueError):
    pass


def _once(pairs):
    """A JSON object whose every key appears once (``json`` itself keeps the last of repeated keys,
    while a person reading the file sees the first)."""
    found = {}
    for key, value in pairs:
        if key in found:
            raise _Repeated(key)
        found[key] = value
    return found


def _no_constant(name):
    raise ValueError(name)


def read(raw):
    """A receipt from its JSON bytes, strictly: every key once at every level, exactly the receipt's
    fields, no NaN/Infinity.  ValueError with the reason in Chinese otherwise — what is refused here
    is never verified, so what a reader sees is what the signature covers."""
    try:
        found = json.loads(raw, object_pairs_hook=_once, parse_constant=_no_constant)
    except _Repeated as repeated:
        raise ValueError(f"回执中的字段“{repeated}”出现了不止一次：读到的内容与签名覆盖的可能不同，不予核验") from None
    except (ValueError, UnicodeDecodeError):
        raise ValueError("回执不是有效的 JSON") from None
    if not isinstance(found, dict):
        raise ValueError("回执应为一个 JSON 对象")
    missing, extra = sorted(FIELDS - found.keys()), sorted(found.keys() - FIELDS)
    if missing or extra:
        raise ValueError("回执的字段与本系统签发的不符：" + "；".join(
            part for part in (f"缺少 {'、'.join(missing)}" if missing else "",
                              f"多出 {'、'.join(extra)}" if extra else "") if part))
    return found


def document(receipt):
    """The receipt as served (and as signed, but for ``signature``)."""
    return {"id": receipt.id, "kind": receipt.kind, "format": receipt.format, "filters": json.loads(receipt.filters),
            "rows": receipt.rows, "sha256": receipt.sha256, "bytes": receipt.bytes, "complete": receipt.complete,
            "created_at": to_shanghai(receipt.created_at).isoformat(timespec="seconds"),
            "exported_by": receipt.exported_by_id,
            "audit_head": {"id": receipt.audit_head_id, "hash": receipt.audit_head_hash},
            "key_id": receipt.key_id, "signature": receipt.signature}


# --- an export's life -------------------------------------------------------------------------

def start(user, kind, fmt, filters):
    """Open the receipt of an export that is about to stream (the caller commits it)."""
    head = audit.head(db.session)
    receipt = ExportReceipt(kind=kind, format=fmt, exported_by_id=user.id, created_at=utcnow(),
                            filters=json.dumps({str(k): str(v) for k, v in filters.items()}, sort_keys=True,
                                               ensure_ascii=False),
                            audit_head_id=head.id if head else None, audit_head_hash=head.hash if head else audit.GENESIS,
                            key_id=key_id_of(public_bytes(private_key())))
    db.session.add(receipt)
    db.session.flush()
    return receipt


class Tally:
    """Counts the rows a writer takes from an iterator."""

    def __init__(self):
        self.rows = 0

    def count(self, rows):
        for row in rows:
            self.rows += 1
            yield row


def signed(user, receipt_id, body, tally):
    """Stream ``body`` (bytes chunks), hashing what goes out; after the last chunk, complete and
    sign the receipt.  A download that stops early (the generator is closed) leaves it incomplete."""
    # Who, taken now: after the stream's own transactions the session no longer holds the user.
    actor = SimpleNamespace(id=user.id, role=user.role)
    return _signed(actor, receipt_id, body, tally)


def _signed(actor, receipt_id, body, tally):
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in body:
            digest.update(chunk)
            size += len(chunk)
            yield chunk
    finally:
        body.close()
    _complete(actor, receipt_id, tally.rows, digest.hexdigest(), size)


def _complete(actor, receipt_id, rows, sha256, size):
    with writing(db.session):
        _sign(actor, receipt_id, rows, sha256, size)


def _sign(actor, receipt_id, rows, sha256, size):
    receipt = db.session.get(ExportReceipt, receipt_id)
    receipt.rows, receipt.sha256, receipt.bytes, receipt.complete = rows, sha256, size, True
    receipt.completed_at = utcnow()
    receipt.signature = base64.b64encode(private_key().sign(canonical(document(receipt)))).decode()
    audit.record("export_receipt", "export_receipt", receipt.id,
                 f"导出回执 {receipt.id}：{receipt.kind}（{FORMATS[receipt.format]}），{rows} 行，{size} 字节，"
                 f"SHA-256 {sha256}", actor=actor)
    db.session.commit()


def recent_of(user, limit=50):
    """The caller's own latest exports, newest first (the console's list beside the export buttons)."""
    return [document(receipt) for receipt in db.session.scalars(
        select(ExportReceipt).where(ExportReceipt.exported_by_id == user.id)
        .order_by(ExportReceipt.id.desc()).limit(limit))]


def get_for(user, receipt_id):
    """The exporter's own receipt (an admin's: any); anyone else → 404."""
    return document(scope.get_receipt_for(user, receipt_id))


# --- checking a file --------------------------------------------------------------------------

def find_by_hash(sha256):
    receipt = db.session.scalars(select(ExportReceipt).where(ExportReceipt.sha256 == sha256, ExportReceipt.complete)
                                 .order_by(ExportReceipt.id.desc())).first()
    return document(receipt) if receipt else None


def verify(data_stream, receipt_doc=None):
    """Check a file (an iterable of bytes chunks) against its receipt (a dict; found by the file's
    SHA-256 when None).  Returns ``(receipt or None, [problems in Chinese])`` — no problems: valid."""
    digest, size = hashlib.sha256(), 0
    for chunk in data_stream:
        digest.update(chunk)
        size += len(chunk)
    sha256 = digest.hexdigest()
    if receipt_doc is None:
        receipt_doc = find_by_hash(sha256)
        if receipt_doc is None:
            return None, [f"找不到与该文件（SHA-256 {sha256}）对应的导出回执：文件已被改动，或并非本系统导出"]
    problems = []
    if not receipt_doc.get("complete"):
        problems.append("回执未完成：该次下载中断，回执不证明任何文件")
    if receipt_doc.get("sha256") != sha256:
        problems.append(f"文件的 SHA-256（{sha256}）与回执记载的（{receipt_doc.get('sha256')}）不符：文件已被改动")
    if receipt_doc.get("bytes") != size:
        problems.append(f"文件大小 {size} 字节与回执记载的 {receipt_doc.get('bytes')} 字节不符")
    ours = public_key()
    if receipt_doc.get("key_id") != ours["key_id"]:
        problems.append(f"回执由另一把密钥签名（{receipt_doc.get('key_id')}），不是本系统的导出密钥（{ours['key_id']}）")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(ours["public_key"]))
        key.verify(base64.b64decode(receipt_doc.get("signature") or "", validate=True), canonical(receipt_doc))
    except (InvalidSignature, ValueError, TypeError):
        problems.append("签名无效：回执内容被改动，或不是用本系统的导出密钥签名的")
    problems.extend(_audit_head_problems(receipt_doc.get("audit_head") or {}))
    return receipt_doc, problems


def _audit_head_problems(head):
    """The named head must be an entry of an intact chain."""
    checked, problem = audit.verify(db.session, anchor=None if head.get("id") is None else head.get("hash"))
    if head.get("id") is None:
        if head.get("hash") != audit.GENESIS:
            return ["回执记载的审计链头无效"]
    else:
        entry = db.session.get(AuditEntry, head["id"])
        if entry is None or entry.hash != head.get("hash"):
            return [f"回执记载的审计链头（第 {head['id']} 条）与审计链中的记录不符"]
    if problem:
        entry_id, reason = problem
        return [f"审计链不完整：{f'第 {entry_id} 条' if entry_id else '锚点'}：{reason}"]
    return []
