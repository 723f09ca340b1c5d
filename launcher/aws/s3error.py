"""An S3 error answer, read the same way by the download and the upload: the fields of its XML error document,
and the one line that says what went wrong."""


def parse(body):
    """{Code, Message, Region, ServerTime, ...} of an S3 XML error body; {} when there is none."""
    if not body.strip():
        return {}
    from xml.etree import ElementTree
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    return {child.tag.rpartition("}")[2]: (child.text or "").strip() for child in root}


def describe(operation, status, reason, document):
    """'<operation> returned HTTP <status> <Code>: <Message>' (the reason when there is no document) on one
    line of at most 600 characters."""
    code = document.get("Code", "")
    text = "%s returned HTTP %d %s" % (operation, status, (code + ": " + document.get("Message", ""))
                                       if code else reason + " (no error document)")
    return " ".join(text.split())[:600]
