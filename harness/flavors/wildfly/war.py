"""The test web application for WildFly nodes, built as a WAR (a zip) in Python: no Maven, no compiler.

One JSP answers every path of its context (servlet mapping `/*`) with the shared wire contract:
header `X-Harness-Node: <jboss.node.name>` and a JSON body {"node", "session", "counter", "path"}.
A session is created on the first request (WildFly appends `.<jvmRoute>` to the JSESSIONID cookie, whose
Path is the context) and `counter` counts the requests of that session. `<distributable/>` makes the
sessions replicate between nodes (standalone-ha's Infinispan web cache). Pure: builds bytes, touches nothing.
"""

from __future__ import annotations

import io
import re
import zipfile

from harness.descriptions.base import SpecError

NODE_HEADER = "X-Harness-Node"
_CONTEXT_RE = re.compile(r"/|(/[A-Za-z0-9._~-]+)+")

INDEX_JSP = """<%@ page contentType="application/json; charset=UTF-8" session="true" pageEncoding="UTF-8"
%><%!
    private static String json(String value) {
        if (value == null) return "null";
        StringBuilder out = new StringBuilder("\\"");
        for (char c : value.toCharArray()) {
            if (c == '"' || c == '\\\\') out.append('\\\\').append(c);
            else if (c < 0x20) out.append(String.format("\\\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }
%><%
    String node = System.getProperty("jboss.node.name", "unknown");
    Integer previous = (Integer) session.getAttribute("harness.counter");
    int counter = previous == null ? 1 : previous + 1;
    session.setAttribute("harness.counter", counter);
    response.setHeader("X-Harness-Node", node);
    response.setHeader("Cache-Control", "no-store");
    out.print("{\\"node\\": " + json(node) + ", \\"session\\": " + json(session.getId())
        + ", \\"counter\\": " + counter + ", \\"path\\": " + json(request.getRequestURI()) + "}");
%>"""

_WEB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee https://jakarta.ee/xml/ns/jakartaee/web-app_6_0.xsd"
         version="6.0">
    <display-name>harness test application {context}</display-name>
{distributable}    <servlet>
        <servlet-name>harness</servlet-name>
        <jsp-file>/index.jsp</jsp-file>
    </servlet>
    <servlet-mapping>
        <servlet-name>harness</servlet-name>
        <url-pattern>/*</url-pattern>
    </servlet-mapping>
    <session-config>
        <session-timeout>30</session-timeout>
    </session-config>
</web-app>
"""

_JBOSS_WEB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<jboss-web xmlns="urn:jboss:jakartaee:1.0" version="15.0">
    <context-root>{context}</context-root>
</jboss-web>
"""


def validate_context(context: str) -> str:
    """A context path the WAR can serve: "/" or "/a[/b...]" of URL-safe characters."""
    if not isinstance(context, str) or not _CONTEXT_RE.fullmatch(context):
        raise SpecError("context", f"got {context!r}; expected '/' or '/name[/name...]' of [A-Za-z0-9._~-]")
    return context


def war_name(context: str) -> str:
    """The deployment file name for `context`, unique per context: "/" -> "ROOT.war", "/app" -> "app.war",
    "/a/b" -> "a~1b.war" ("~" is written "~0", "/" "~1"; a context named /ROOT gets "ROOT~r.war")."""
    validate_context(context)
    if context == "/":
        return "ROOT.war"
    name = context[1:].replace("~", "~0").replace("/", "~1")
    return f"{name}~r.war" if name.upper() == "ROOT" else f"{name}.war"


def web_xml(context: str, distributable: bool = True) -> str:
    return _WEB_XML.format(context=context, distributable="    <distributable/>\n" if distributable else "")


def jboss_web_xml(context: str) -> str:
    return _JBOSS_WEB_XML.format(context=context)


def build_war(context: str = "/app", *, distributable: bool = True) -> bytes:
    """The WAR bytes for `context` (deterministic: same input, same bytes)."""
    validate_context(context)
    entries = {
        "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\r\nCreated-By: modcluster-harness\r\n\r\n",
        "WEB-INF/web.xml": web_xml(context, distributable),
        "WEB-INF/jboss-web.xml": jboss_web_xml(context),
        "index.jsp": INDEX_JSP,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
