# SPDX-License-Identifier: GPL-2.0-only
"""The renderings scripts/eval sends: one table row each.

A rendering turns one subject's value into one message (Msg). Rows rotate the strong field
(phone, email, national_id) over their values where the rendering is field-agnostic.
`enc` is what the finding's evidence.encodings must contain (empty: it must be []; None: not
checked). `client`: "python" or "curl" when only that client can produce it (python: several
sends of one value; curl: HTTP/2), else the two alternate.
`raw`: the python client sends it as a bare message (no HTTP), curl as an HTTP body.
`h2`: curl sends it as HTTP/2 (h2c prior knowledge in plaintext, ALPN h2 over TLS).
Bulk rows (bulk_table) put `bulk` subjects in one message, all their `fields` in each row.
"""

import base64
import gzip
import hashlib
import json
import struct
import zlib

from .data import fullwidth, utf16

FIELDS = ("phone", "email", "national_id")
KEYS = {"phone": "mobile", "email": "email", "national_id": "id_no"}


class Msg:
    __slots__ = ("method", "path", "headers", "body", "raw", "parts", "h2")

    def __init__(self, body=b"", ctype="application/json", method="POST", path="/v1/ingest",
                 headers=(), raw=False, parts=None, h2=False):
        self.method, self.path, self.body, self.raw, self.parts = method, path, body, raw, parts
        self.h2 = h2
        self.headers = list(headers)
        if ctype and method == "POST":
            self.headers.insert(0, ("Content-Type", ctype))


class Rendering:
    def __init__(self, key, group, label, build, fields=FIELDS, enc=(), python_only=False,
                 name_kind=None, weak=False, expect=True, id_x=False, client=None, bulk=0):
        self.key, self.group, self.label, self.build = key, group, label, build
        self.fields, self.enc = tuple(fields), None if enc is None else tuple(enc)
        self.client = "python" if python_only else client
        self.python_only = self.client == "python"
        self.name_kind, self.weak, self.expect, self.id_x = name_kind, weak, expect, id_x
        self.bulk = bulk


def _j(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _filler(ctx):
    """A non-enrolled row for CSV/TSV documents."""
    reg = ctx["reg"]
    return {"phone": reg.other_phone(), "email": reg.other_email(),
            "national_id": reg.other_nid()}


def _table(ctx, field, v, sep):
    f1, f2 = _filler(ctx), _filler(ctx)
    k = KEYS[field]
    lines = ["row%sname%s%s%sscore" % (sep, sep, k, sep),
             "1%sx%s%s%s0.25" % (sep, sep, f1[field], sep),
             "2%sy%s%s%s0.5" % (sep, sep, v, sep),
             "3%sz%s%s%s0.75" % (sep, sep, f2[field], sep)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _binary(v):
    vb = v.encode()
    rec = b"".join(struct.pack(">BH", t, len(b)) + b for t, b in
                   ((1, b"evt:signup"), (2, vb), (3, b"\x00\x01\x02\x03")))
    # The length bytes right before the value must not read as part of a token.
    assert not chr(len(vb) & 0xff).isalnum(), "framing length byte is alphanumeric"
    return b"CSB\x01" + struct.pack(">H", 3) + rec + b"\xff\xfe"


def _doc(kind, field, v, align):
    """A JSON or CSV document holding v at a byte offset == align (mod 3)."""
    k = KEYS[field]
    for pad in range(3):
        if kind == "json":
            head = '{"event":"signup","ref":"%s","%s":"' % ("r" * pad, k)
            doc = head + v + '","ok":true}'
        else:
            head = "event,ref,%s\r\nsignup,%s," % (k, "r" * pad)
            doc = head + v + "\r\n"
        if len(head.encode()) % 3 == align:
            return doc.encode()
    raise AssertionError("no padding gives alignment %d" % align)


def _phone_groups(p, sep, prefix=""):
    return "%s%s%s%s%s%s" % (prefix, p[:3], sep, p[3:7], sep, p[7:])


def _mixed_case(s):
    return "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(s))


def _json_field(field, v, **extra):
    d = {"uid": "acct-7781", KEYS[field]: v}
    d.update(extra)
    return _j(d)


def _split_points(n, parts):
    return [n * i // parts for i in range(1, parts)]


def _split(doc, v, parts):
    """Cut doc inside the value into `parts` pieces."""
    i = doc.index(v.encode())
    cuts = [i + c for c in _split_points(len(v.encode()), parts)]
    out, last = [], 0
    for c in cuts:
        out.append(doc[last:c])
        last = c
    out.append(doc[last:])
    return out


def _hash_row(algo, upper, what):
    def build(ctx, s, field):
        if what == "email":
            src = s.email.lower()
        elif what == "phone":
            src = s.phone
        elif what == "86phone":
            src = "86" + s.phone
        else:
            src = "+86" + s.phone
        h = hashlib.new(algo, src.encode()).hexdigest()
        if upper:
            h = h.upper()
        return Msg(_j({"audience": "lookalike-q4", "match_keys": [{"k": h}]}))
    what_label = {"email": "email", "phone": "phone 13800138000",
                  "86phone": "phone 8613800138000", "p86phone": "phone +8613800138000"}[what]
    return Rendering("hash-%s-%s-%s" % (algo, what, "upper" if upper else "lower"), "hash",
                     "%s hex %s of %s" % (algo.upper().replace("SHA", "SHA-"),
                                          "upper" if upper else "lower", what_label),
                     build, fields=("email",) if what == "email" else ("phone",),
                     enc=(algo,))


def table():
    R = []
    # plain, field-agnostic contexts
    R.append(Rendering("json", "plain", "plain in JSON",
                       lambda c, s, f: Msg(_json_field(f, s.value(f), plan="gold"))))
    R.append(Rendering("form", "plain", "plain in form body",
                       lambda c, s, f: Msg(("lang=zh&%s=%s&agree=1" % (KEYS[f], s.value(f)))
                                           .encode(), "application/x-www-form-urlencoded")))
    R.append(Rendering("query", "plain", "plain in query string",
                       lambda c, s, f: Msg(method="GET", ctype=None,
                                           path="/v1/track?ref=home&%s=%s&v=2"
                                           % (KEYS[f], s.value(f)))))
    R.append(Rendering("header", "plain", "plain in HTTP header",
                       lambda c, s, f: Msg(method="GET", ctype=None, path="/v1/ping",
                                           headers=[("X-Contact", s.value(f))])))
    R.append(Rendering("csv", "plain", "plain in CSV",
                       lambda c, s, f: Msg(_table(c, f, s.value(f), ","), "text/csv", raw=True)))
    R.append(Rendering("tsv", "plain", "plain in TSV",
                       lambda c, s, f: Msg(_table(c, f, s.value(f), "\t"),
                                           "text/tab-separated-values", raw=True)))
    R.append(Rendering("xml", "plain", "plain in XML",
                       lambda c, s, f: Msg(('<?xml version="1.0"?><user><plan>gold</plan><%s>%s'
                                            '</%s></user>' % (KEYS[f], s.value(f), KEYS[f]))
                                           .encode(), "application/xml")))
    R.append(Rendering("binary", "plain", "plain in binary length-prefixed framing",
                       lambda c, s, f: Msg(_binary(s.value(f)), "application/octet-stream",
                                           raw=True)))
    # phone forms
    phone_forms = [
        ("p86", "phone +86 prefix (+8613800138000)", lambda p: "+86" + p),
        ("p0086", "phone 0086 prefix (008613800138000)", lambda p: "0086" + p),
        ("p86bare", "phone 86 prefix (8613800138000)", lambda p: "86" + p),
        ("space", "phone space groups (138 0013 8000)", lambda p: _phone_groups(p, " ")),
        ("dash", "phone dash groups (138-0013-8000)", lambda p: _phone_groups(p, "-")),
        ("dot", "phone dot groups (138.0013.8000)", lambda p: _phone_groups(p, ".")),
        ("paren", "phone parentheses ((138) 0013 8000)",
         lambda p: "(%s) %s %s" % (p[:3], p[3:7], p[7:])),
        ("p86dash", "phone +86 138-0013-8000", lambda p: _phone_groups(p, "-", "+86 ")),
        ("p0086paren", "phone 0086 (138) 0013 8000",
         lambda p: "0086 (%s) %s %s" % (p[:3], p[3:7], p[7:])),
        ("p86dot", "phone 86.138.0013.8000", lambda p: _phone_groups(p, ".", "86.")),
    ]
    for key, label, fmt in phone_forms:
        R.append(Rendering("phone-" + key, "phone", label,
                           (lambda fmt: lambda c, s, f: Msg(_j({"tel": fmt(s.phone),
                                                                "src": "app"})))(fmt),
                           fields=("phone",)))
    # email and ID forms
    R.append(Rendering("email-upper", "email", "email upper case",
                       lambda c, s, f: Msg(_j({"email": s.email.upper()})), fields=("email",)))
    R.append(Rendering("email-mixed", "email", "email mixed case",
                       lambda c, s, f: Msg(_j({"email": _mixed_case(s.email)})),
                       fields=("email",)))
    R.append(Rendering("email-pct40", "email", "email %40 in form body",
                       lambda c, s, f: Msg(("name=x&email=%s&ok=1" % s.email.replace("@", "%40"))
                                           .encode(), "application/x-www-form-urlencoded"),
                       fields=("email",)))
    R.append(Rendering("id-lower-x", "id", "national id check letter x",
                       lambda c, s, f: Msg(_j({"id_no": s.national_id.lower()})),
                       fields=("national_id",), id_x=True))
    R.append(Rendering("id-upper-x", "id", "national id check letter X",
                       lambda c, s, f: Msg(_j({"id_no": s.national_id.upper()})),
                       fields=("national_id",), id_x=True))
    # split across sends of one socket
    for parts in (2, 3):
        R.append(Rendering("split%d" % parts, "split", "split across %d sends" % parts,
                           (lambda parts: lambda c, s, f: Msg(
                               raw=True, body=_json_field(f, s.value(f)) + b"\n",
                               parts=_split(_json_field(f, s.value(f)) + b"\n", s.value(f),
                                            parts)))(parts),
                           enc=("split",), python_only=True))
    # escapes
    R.append(Rendering("json-u0040", "escape", "JSON \\u0040 in email",
                       lambda c, s, f: Msg(('{"email":"%s"}' % s.email.replace("@", "\\u0040"))
                                           .encode()),
                       fields=("email",), enc=("json-escape",)))
    R.append(Rendering("json-uphone", "escape", "JSON fully \\u-escaped phone",
                       lambda c, s, f: Msg(('{"tel":"%s"}' % "".join("\\u%04x" % ord(ch)
                                                                    for ch in s.phone)).encode()),
                       fields=("phone",), enc=("json-escape",)))
    R.append(Rendering("html-dec", "escape", "HTML entity &#64; in email",
                       lambda c, s, f: Msg(("<html><body><p>Contact: %s</p></body></html>"
                                            % s.email.replace("@", "&#64;")).encode(),
                                           "text/html"),
                       fields=("email",), enc=("html-entity",)))
    R.append(Rendering("html-hex", "escape", "HTML entity &#x40; in email",
                       lambda c, s, f: Msg(("<html><body><p>Contact: %s</p></body></html>"
                                            % s.email.replace("@", "&#x40;")).encode(),
                                           "text/html"),
                       fields=("email",), enc=("html-entity",)))
    # base64
    R.append(Rendering("b64-value", "base64", "base64 of the value",
                       lambda c, s, f: Msg(_j({"v": base64.b64encode(s.value(f).encode())
                                               .decode()})), enc=("base64",)))
    R.append(Rendering("b64url-value", "base64", "base64url (unpadded) of the value",
                       lambda c, s, f: Msg(_j({"v": base64.urlsafe_b64encode(s.value(f).encode())
                                               .decode().rstrip("=")})), enc=("base64",)))
    for url in (False, True):
        for kind in ("json", "csv"):
            for align in range(3):
                def build(c, s, f, url=url, kind=kind, align=align):
                    doc = _doc(kind, f, s.value(f), align)
                    b = (base64.urlsafe_b64encode(doc).rstrip(b"=") if url
                         else base64.b64encode(doc))
                    return Msg(_j({"type": kind, "blob": b.decode()}))
                R.append(Rendering("%s-%s-a%d" % ("b64url" if url else "b64", kind, align),
                                   "base64", "%s of %s doc, value at offset %%3=%d"
                                   % ("base64url" if url else "base64", kind.upper(), align),
                                   build, enc=("base64",)))
    # hashes
    for algo in ("sha256", "sha1", "md5"):
        for what in ("email", "phone", "86phone", "p86phone"):
            for upper in (False, True):
                R.append(_hash_row(algo, upper, what))
    # compression
    R.append(Rendering("gzip", "compress", "gzip body (Content-Encoding: gzip)",
                       lambda c, s, f: Msg(gzip.compress(_json_field(f, s.value(f)), mtime=0),
                                           headers=[("Content-Encoding", "gzip")]),
                       enc=("gzip",)))
    R.append(Rendering("deflate", "compress", "deflate body, zlib (Content-Encoding: deflate)",
                       lambda c, s, f: Msg(zlib.compress(_json_field(f, s.value(f))),
                                           headers=[("Content-Encoding", "deflate")]),
                       enc=("deflate",)))
    R.append(Rendering("deflate-raw", "compress", "deflate body, raw (Content-Encoding: deflate)",
                       lambda c, s, f: Msg(_raw_deflate(_json_field(f, s.value(f))),
                                           headers=[("Content-Encoding", "deflate")]),
                       enc=("deflate",)))
    R.append(Rendering("gzip-csv", "compress", "raw gzip'd CSV (magic, no header)",
                       lambda c, s, f: Msg(gzip.compress(_table(c, f, s.value(f), ","), mtime=0),
                                           "application/gzip", raw=True),
                       enc=("gzip",)))
    # wide text: UTF-16 in both byte orders, with and without BOM; full-width forms in UTF-8
    for order in ("le", "be"):
        for bom in (True, False):
            R.append(Rendering(
                "utf16%s%s" % (order, "-bom" if bom else ""), "wide",
                "UTF-16%s text, %s BOM" % (order.upper(), "with" if bom else "no"),
                (lambda order, bom: lambda c, s, f: Msg(
                    utf16(_wide_text(s, f), order, bom),
                    "text/plain; charset=utf-16" + ("" if bom else order), raw=True))(order, bom),
                fields=("phone", "email"), enc=("utf-16",)))
    R.append(Rendering("fw-phone", "wide", "full-width phone digits in Chinese text",
                       lambda c, s, f: Msg(_j({"type": "chat", "text": "您好，我的手机号是%s，"
                                               "请尽快回电。" % fullwidth(s.phone)})),
                       fields=("phone",), enc=("fullwidth",)))
    R.append(Rendering("fw-email", "wide", "full-width e-mail in Chinese text",
                       lambda c, s, f: Msg(("客户留言：请把合同发到%s，谢谢。\n"
                                            % fullwidth(s.email)).encode(),
                                           "text/plain; charset=utf-8", raw=True),
                       fields=("email",), enc=("fullwidth",)))
    # HTTP/2 (curl only: h2c prior knowledge on the syscall channel, ALPN h2 over TLS); the
    # header block is HPACK-coded (curl's nghttp2 Huffman-codes the value), the body is a
    # plain DATA frame; evidence.encodings is not checked
    R.append(Rendering("h2-path", "http2", "HTTP/2 value in :path",
                       lambda c, s, f: Msg(method="GET", ctype=None, h2=True,
                                           path="/v1/users/%s/profile" % s.value(f)),
                       enc=None, client="curl"))
    R.append(Rendering("h2-header", "http2", "HTTP/2 value in a header",
                       lambda c, s, f: Msg(method="GET", ctype=None, h2=True, path="/v1/ping",
                                           headers=[("X-Contact", s.value(f))]),
                       enc=None, client="curl"))
    R.append(Rendering("h2-data", "http2", "HTTP/2 value in a DATA body",
                       lambda c, s, f: Msg(_json_field(f, s.value(f), plan="gold"), h2=True),
                       enc=None, client="curl"))
    # weak fields
    R.append(Rendering("weak-cn", "weak", "name (Chinese) + strong field: fields has name",
                       lambda c, s, f: Msg(_json_field(f, s.value(f), name=s.name)),
                       name_kind="cn", weak=True))
    R.append(Rendering("weak-latin", "weak", "name (Latin) + strong field: fields has name",
                       lambda c, s, f: Msg(_json_field(f, s.value(f), name=s.name)),
                       name_kind="latin", weak=True))
    R.append(Rendering("weak-alone", "weak", "name alone: no finding expected",
                       lambda c, s, f: Msg(_j({"name": s.name, "city": "Chengdu"})),
                       expect=False))
    keys = [r.key for r in R]
    assert len(keys) == len(set(keys))
    return R


def _wide_text(s, field):
    label = {"phone": "Phone / 电话", "email": "E-mail / 邮箱"}[field]
    return ("Customer record / 客户资料\r\nRef: A-7781\r\n%s: %s\r\nNote: call after 18:00\r\n"
            % (label, s.value(field)))


BULK_FORMATS = (("csv", "CSV"), ("json", "JSON array"), ("gzjson", "gzip'd JSON array"))


def bulk_table(sizes):
    """Bulk exports: one message holding `n` subjects (id, phone, e-mail rows) as CSV, as a
    JSON array of objects, and as that JSON gzip'd (Content-Encoding: gzip)."""
    R = []
    for fmt, name in BULK_FORMATS:
        for n in sizes:
            R.append(Rendering("bulk-%s-%d" % (fmt, n), "bulk", "bulk %s, %s subject%s per send"
                               % (name, "{:,}".format(n), "" if n == 1 else "s"),
                               (lambda fmt: lambda c, subjects: _bulk(fmt, subjects))(fmt),
                               fields=("phone", "email"), enc=("gzip",) if fmt == "gzjson" else (),
                               bulk=n))
    return R


def _bulk(fmt, subjects):
    path = "/v1/export/users"
    if fmt == "csv":
        rows = ["id,phone,email"] + ["%d,%s,%s" % (100001 + i, s.phone, s.email)
                                     for i, s in enumerate(subjects)]
        return Msg(("\r\n".join(rows) + "\r\n").encode(), "text/csv", path=path)
    doc = _j([{"id": 100001 + i, "phone": s.phone, "email": s.email}
              for i, s in enumerate(subjects)])
    if fmt == "json":
        return Msg(doc, path=path)
    return Msg(gzip.compress(doc, mtime=0), path=path, headers=[("Content-Encoding", "gzip")])


def _raw_deflate(b):
    co = zlib.compressobj(wbits=-15)
    return co.compress(b) + co.flush()
