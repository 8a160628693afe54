# SPDX-License-Identifier: GPL-2.0-only
"""Invented data subjects and benign traffic for scripts/eval.

Every value is synthetic: names from small syllable tables, CN mobiles 1[3-9] + 9 digits,
example.* e-mail domains, 18-character resident IDs with a valid ISO 7064 MOD 11-2 check
character. Values are unique across subjects and never reused as filler or benign data (one
`used` set reserves both), so a finding's subject names exactly one payload.
"""

import base64
import codecs
import datetime
import gzip
import re
import unicodedata

FAMILY_HANZI = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN_HANZI = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞辉宇浩然欣怡晨阳思雨子轩梓涵"
PINYIN = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu",
          "sun", "ma", "zhu", "hu", "guo", "he", "gao", "lin", "luo", "wei", "fang", "na", "min",
          "jing", "qiang", "lei", "jun", "yong", "yan", "jie", "tao", "ming", "chao", "xia"]
LATIN_GIVEN = ["Maria", "Lucas", "Ana", "Mateo", "Sofia", "Hugo", "Elena", "Leo", "Clara",
               "Noah", "Ines", "Pablo", "Lena", "Tomas", "Julia", "Marco", "Nora", "Ivan"]
LATIN_FAMILY = ["Ortiz", "Moreau", "Silva", "Keller", "Rossi", "Novak", "Lindqvist", "Duarte",
                "Berger", "Costa", "Varga", "Petrov", "Navarro", "Fischer", "Marin", "Olsen"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "corp.example"]
AREAS = ["110101", "110105", "310115", "440106", "440305", "510107", "330106", "320106",
         "420102", "120101", "500103", "610113"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
LOREM = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
         "exercitation ullamco laboris nisi aliquip ex ea commodo consequat").split()
HANZI_TEXT = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
              "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量"
              "都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关"
              "各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最")
B32 = "0123456789abcdef"


def id_check(first17):
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def fullwidth(s):
    """s with every printable ASCII character but space in its full-width form
    (U+FF01-FF5E: "１３８" for "138", "＠" for "@")."""
    return "".join(chr(ord(c) + 0xfee0) if "!" <= c <= "~" else c for c in s)


def utf16(text, order, bom):
    """text as UTF-16 in byte order "le" or "be", with or without its byte-order mark."""
    b = text.encode("utf-16-" + order)
    if bom:
        b = (codecs.BOM_UTF16_LE if order == "le" else codecs.BOM_UTF16_BE) + b
    return b


class Subject:
    __slots__ = ("sid", "phone", "email", "national_id", "name", "name_kind")

    def value(self, field):
        return getattr(self, field)


class Registry:
    """Allocates subjects and non-enrolled look-alike values from one rng."""

    def __init__(self, rng):
        self.rng = rng
        self.subjects = []
        self.count = {}         # subjects per id prefix
        self.used = set()       # every phone/email/id handed out, enrolled or not
        self.enrolled = set()   # normalised enrolled strong values
        self.d0 = datetime.date(1950, 1, 1)

    def _phone(self):
        r = self.rng
        while True:
            p = "1" + r.choice("3456789") + "%09d" % r.randrange(10**9)
            if p not in self.used:
                self.used.add(p)
                return p

    def _nid(self, want_x=False):
        r = self.rng
        while True:
            d = self.d0 + datetime.timedelta(days=r.randrange(55 * 365))
            first17 = r.choice(AREAS) + d.strftime("%Y%m%d") + "%03d" % r.randrange(1000)
            nid = first17 + id_check(first17)
            if want_x and nid[-1] != "X":
                continue
            if nid not in self.used:
                self.used.add(nid)
                return nid

    def _email(self, local):
        r = self.rng
        while True:
            e = "%s%d@%s" % (local, r.randrange(1, 10**5), r.choice(EMAIL_DOMAINS))
            if e not in self.used:
                self.used.add(e)
                return e

    def _name(self, kind):
        r = self.rng
        if kind == "cn":
            return (r.choice(FAMILY_HANZI) + "".join(r.choice(GIVEN_HANZI)
                                                     for _ in range(r.choice((1, 2)))))
        return "%s %s" % (r.choice(LATIN_GIVEN), r.choice(LATIN_FAMILY))

    def new_subject(self, name_kind=None, id_x=False, prefix="e"):
        """A new enrolled subject; ids are PREFIX + 5 digits, numbered per prefix ("e" for
        the rows' subjects, "b" for the bulk pool)."""
        r = self.rng
        s = Subject()
        n = self.count[prefix] = self.count.get(prefix, 0) + 1
        s.sid = "%s%05d" % (prefix, n)
        s.name_kind = name_kind or r.choice(("cn", "latin"))
        s.name = self._name(s.name_kind)
        s.phone = self._phone()
        if s.name_kind == "latin":
            g, f = s.name.lower().split(" ")
            local = "%s.%s" % (g, f)
        else:
            local = "%s.%s" % (r.choice(PINYIN), r.choice(PINYIN))
        s.email = self._email(local)
        s.national_id = self._nid(id_x)
        self.subjects.append(s)
        self.enrolled.update((s.phone, s.email, s.national_id.lower()))
        return s

    # Non-enrolled values (reserved so no subject ever gets them).
    def other_phone(self):
        return self._phone()

    def other_email(self):
        return self._email(self.rng.choice(PINYIN) + "." + self.rng.choice(PINYIN))

    def other_nid(self):
        return self._nid()

    def near_miss_phone(self, s):
        """A subject's phone with its last digit changed, if that is free."""
        for d in "0123456789":
            p = s.phone[:-1] + d
            if p not in self.used:
                self.used.add(p)
                return p
        return self._phone()

    def near_miss_email(self, s):
        local, _, dom = s.email.partition("@")
        for cand in (local + "@x" + dom, local + "0@" + dom, local[:-1] + "@" + dom):
            if cand not in self.used:
                self.used.add(cand)
                return cand
        return self.other_email()


PHONE_RUN = re.compile(rb"\d(?:[ .()/-]{0,3}\d)+")
EMAIL_RUN = re.compile(rb"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+")
ID_RUN = re.compile(rb"\d{17}[\dXx]")


def check_clean(reg, text):
    """Return a reason string if text (UTF-8 bytes) contains an enrolled value in plain form,
    also once full-width forms (U+FF01-FF5E, UTF-8 EF BC xx / EF BD xx) are folded to ASCII."""
    why = _check_ascii(reg, text)
    if not why and (b"\xef\xbc" in text or b"\xef\xbd" in text):
        why = _check_ascii(reg, unicodedata.normalize(
            "NFKC", text.decode("utf-8", "replace")).encode())
    return why


def _check_ascii(reg, text):
    for m in PHONE_RUN.finditer(text):
        digits = re.sub(rb"\D", b"", m.group()).decode()
        for k in range(len(digits)):
            for n in (11, 18):
                if digits[k:k + n] in reg.enrolled:
                    return "a digit run holds an enrolled value"
    for m in EMAIL_RUN.finditer(text):
        e = m.group().decode().lower().strip(".")
        if e in reg.enrolled:
            return "an enrolled email"
    for m in ID_RUN.finditer(text):
        if m.group().decode().lower() in reg.enrolled:
            return "an enrolled national id"
    return None


class Benign:
    """Benign chunks of about `chunk` bytes each: (kind, body bytes, content type, encoding).

    encoding is None, "gzip" (a gzip body sent with Content-Encoding: gzip over HTTP, or as a
    raw gzip stream), "binary" or "utf-16". Nothing in them is enrolled (checked on the
    plaintext, full-width forms folded to ASCII). bulk_csv() makes the bigger bulk exports."""

    KINDS = ["numbers", "timestamps", "hex", "emails", "phones", "lorem", "chinese", "binary",
             "base64", "gzip", "records", "near-miss", "utf16", "fullwidth"]

    def __init__(self, reg, rng, chunk=12000):
        self.reg, self.rng, self.chunk = reg, rng, chunk

    def _fill(self, gen, sep=b"\n"):
        out, n = [], 0
        while n < self.chunk:
            w = gen()
            out.append(w)
            n += len(w) + len(sep)
        return sep.join(out)

    def _lorem(self, n):
        return " ".join(self.rng.choice(LOREM) for _ in range(n))

    def _hanzi(self, n):
        return "".join(self.rng.choice(HANZI_TEXT) for _ in range(n))

    def _other_strong(self, near):
        """A non-enrolled phone or e-mail; with near, one character off an enrolled one."""
        reg, r = self.reg, self.rng
        if near and reg.subjects:
            s = r.choice(reg.subjects)
            return reg.near_miss_phone(s) if r.random() < 0.5 else reg.near_miss_email(s)
        return reg.other_phone() if r.random() < 0.5 else reg.other_email()

    def bulk_csv(self, n):
        """A CSV export of n invented, non-enrolled people (id, name, phone, email, city)."""
        r, reg = self.rng, self.reg
        rows = ["id,name,phone,email,city"]
        for i in range(n):
            rows.append("%d,%s,%s,%s,%s" % (
                700000 + i, reg._name(r.choice(("cn", "latin"))), reg.other_phone(),
                reg.other_email(), self._hanzi(2)))
        body = ("\r\n".join(rows) + "\r\n").encode()
        check = check_clean(reg, body)
        if check:
            raise AssertionError("benign bulk CSV: " + check)
        return "bulk-csv", body, "text/csv; charset=utf-8", None

    def _phone_fmt(self):
        r = self.rng
        p = self.reg.other_phone()
        f = r.randrange(6)
        if f == 0:
            return p
        if f == 1:
            return "+86 " + p
        if f == 2:
            return "%s-%s-%s" % (p[:3], p[3:7], p[7:])
        if f == 3:
            return "0086 (%s) %s %s" % (p[:3], p[3:7], p[7:])
        if f == 4:
            return "86.%s.%s.%s" % (p[:3], p[3:7], p[7:])
        return "+86" + p

    def make(self, kind):
        r, reg = self.rng, self.reg
        enc, ctype = None, "text/plain"
        if kind == "numbers":
            body = self._fill(lambda: (",".join(str(r.randrange(10**r.randrange(1, 19)))
                                                for _ in range(8))).encode())
        elif kind == "timestamps":
            def ts():
                t = 1.6e9 + r.random() * 2e8
                d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
                return ("%s,%d,%s" % (d.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), int(t * 1000),
                                      d.strftime("%Y%m%d %H:%M:%S"))).encode()
            body = self._fill(ts)
        elif kind == "hex":
            def hx():
                n = r.choice((32, 40, 64))
                h = "".join(r.choice(B32) for _ in range(n))
                return (h.upper() if r.random() < 0.3 else h).encode()
            body = self._fill(hx)
        elif kind == "emails":
            body = self._fill(lambda: (reg.other_email() if r.random() < 0.7 else
                                       reg.other_email().upper().replace("@", "%40")).encode())
        elif kind == "phones":
            body = self._fill(lambda: self._phone_fmt().encode(), sep=b";\n")
        elif kind == "lorem":
            body = self._fill(lambda: self._lorem(12).encode(), sep=b". ")
        elif kind == "chinese":
            body = self._fill(lambda: self._hanzi(r.randrange(8, 40)).encode(), sep="。".encode())
            ctype = "text/plain; charset=utf-8"
        elif kind == "binary":
            body = r.randbytes(self.chunk)
            enc, ctype = "binary", "application/octet-stream"
        elif kind == "base64":
            body = self._fill(lambda: (base64.b64encode(r.randbytes(r.randrange(12, 300)))
                                       if r.random() < 0.5 else
                                       base64.urlsafe_b64encode(r.randbytes(r.randrange(12, 300)))
                                       .rstrip(b"=")))
        elif kind == "gzip":
            text = self._fill(lambda: ("%s %d %s" % (self._lorem(8), r.randrange(10**11),
                                                     reg.other_email())).encode())
            check = check_clean(reg, text)
            if check:
                raise AssertionError("benign gzip text: " + check)
            body = gzip.compress(text, mtime=0)
            enc, ctype = "gzip", "text/plain"
        elif kind == "records":
            def rec():
                return ('{"id":"%s","phone":"%s","email":"%s","id_no":"%s","amount":%d.%02d,'
                        '"note":"%s","city":"%s"}' % (
                            "".join(r.choice(B32) for _ in range(12)), reg.other_phone(),
                            reg.other_email(), reg.other_nid(), r.randrange(10**5),
                            r.randrange(100), self._lorem(4), self._hanzi(3))).encode()
            body = b"[" + self._fill(rec, sep=b",\n") + b"]"
            ctype = "application/json"
        elif kind == "utf16":
            # UTF-16 text in both byte orders, with and without BOM: lorem, non-enrolled
            # phones and e-mails, near misses and numbers (about chunk bytes once encoded)
            def line():
                return "%s: %s, %s %d" % (self._lorem(3), self._other_strong(r.random() < 0.3),
                                          self._hanzi(4), r.randrange(10**r.randrange(1, 12)))
            text = "\r\n".join(line() for _ in range(self.chunk // 110))
            order = r.choice(("le", "be"))
            check = check_clean(reg, text.encode())
            if check:
                raise AssertionError("benign utf16 text: " + check)
            body = utf16(text, order, r.random() < 0.5)
            enc, ctype = "utf-16", "text/plain; charset=utf-16" + order
        elif kind == "fullwidth":
            # Chinese text with full-width digits and letters: non-enrolled phones, e-mails,
            # near misses, order numbers, prices
            def sent():
                v = self._other_strong(r.random() < 0.3)
                return "%s%s%s，%s%s" % (
                    self._hanzi(r.randrange(4, 12)), r.choice(("电话：", "邮箱：", "联系")),
                    fullwidth(v), fullwidth("No.%d" % r.randrange(10**9)),
                    self._hanzi(r.randrange(4, 12)))
            body = self._fill(lambda: sent().encode(), sep="。".encode())
            ctype = "text/plain; charset=utf-8"
        elif kind == "near-miss":
            subs = reg.subjects

            def nm():
                s = r.choice(subs)
                a = r.randrange(3)
                if a == 0:
                    return ('{"tel":"%s"}' % reg.near_miss_phone(s)).encode()
                if a == 1:
                    return ('{"email":"%s"}' % reg.near_miss_email(s)).encode()
                # the subject's ID with a wrong check character: not a valid ID at all
                bad = s.national_id[:17] + r.choice([c for c in "0123456789X"
                                                     if c != s.national_id[17]])
                return ('{"id_no":"%s"}' % bad).encode()
            body = self._fill(nm)
            ctype = "application/json"
        else:
            raise ValueError(kind)
        if enc is None:
            check = check_clean(reg, body)
            if check:
                raise AssertionError("benign %s chunk: %s" % (kind, check))
        return kind, body, ctype, enc
