"""The text of files that are text already: plain text (.txt) and e-mail (.eml, RFC 5322).

Nothing to recognise and no rendition: the words are the file's own. A plain text file is read
as UTF-8 (a byte-order mark allowed) or else GB 18030, the encodings Chinese offices write. An
e-mail gives its header lines that say who wrote to whom, when and about what (decoded from
their MIME encoded words), then its text: the plain-text parts, or the HTML part's text when
there is no plain one, and the names of its attachments.
"""

import email
import email.policy
import html
import re

#: The header fields of an e-mail that go into its text, in this order.
MAIL_FIELDS = ("From", "To", "Cc", "Date", "Subject")
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def decode_text(data: bytes) -> str:
    """Bytes of a text file as text: UTF-8 (BOM or not), else GB 18030 (replacing the rest)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def mail_text(data: bytes) -> str:
    """What a reader of the message reads: its header lines, its text, its attachments' names."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    lines = [f"{name}: {message[name]}" for name in MAIL_FIELDS if message[name]]
    plain, markup, attached = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            attached.append(part.get_filename() or part.get_content_type())
            continue
        if part.get_content_maintype() != "text":
            continue
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, ValueError):
            content = decode_text(part.get_payload(decode=True) or b"")
        (markup if part.get_content_subtype() == "html" else plain).append(content)
    body = plain or [html.unescape(_TAGS.sub(" ", text)) for text in markup]
    lines += ["", *body]
    if attached:
        lines += ["", *attached]
    return "\n".join(lines).strip()
