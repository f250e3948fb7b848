"""The test WAR built in Python: its entries, its descriptors and the deployment file names (no Docker)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.descriptions.base import SpecError
from harness.flavors.wildfly.war import INDEX_JSP, NODE_HEADER, build_war, validate_context, war_name

JEE = "{https://jakarta.ee/xml/ns/jakartaee}"
contexts = st.one_of(
    st.just("/"),
    st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), min_size=1, max_size=3).map(
        lambda parts: "/" + "/".join(parts)
    ),
)


def _entries(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_war_holds_the_page_and_descriptors() -> None:
    entries = _entries(build_war("/app"))
    assert set(entries) == {"META-INF/MANIFEST.MF", "WEB-INF/web.xml", "WEB-INF/jboss-web.xml", "index.jsp"}
    assert entries["index.jsp"] == INDEX_JSP


def test_web_xml_is_distributable_and_maps_every_path_to_the_page() -> None:
    root = ET.fromstring(_entries(build_war("/app"))["WEB-INF/web.xml"])
    assert root.find(f"{JEE}distributable") is not None
    assert root.findtext(f"{JEE}servlet/{JEE}jsp-file") == "/index.jsp"
    assert root.findtext(f"{JEE}servlet-mapping/{JEE}url-pattern") == "/*"
    assert root.findtext(f"{JEE}servlet/{JEE}servlet-name") == root.findtext(f"{JEE}servlet-mapping/{JEE}servlet-name")


def test_not_distributable_on_request() -> None:
    root = ET.fromstring(_entries(build_war("/app", distributable=False))["WEB-INF/web.xml"])
    assert root.find(f"{JEE}distributable") is None


@pytest.mark.parametrize("context", ["/", "/app", "/shop/cart"])
def test_context_root_is_the_context(context: str) -> None:
    root = ET.fromstring(_entries(build_war(context))["WEB-INF/jboss-web.xml"])
    assert root.findtext("{urn:jboss:jakartaee:1.0}context-root") == context


def test_page_implements_the_wire_contract() -> None:
    """Header named from jboss.node.name, a session per client, a counter kept in the session, JSON keys."""
    assert 'session="true"' in INDEX_JSP
    assert f'response.setHeader("{NODE_HEADER}", node)' in INDEX_JSP
    assert 'System.getProperty("jboss.node.name"' in INDEX_JSP
    assert re.search(r'session\.setAttribute\("harness\.counter", counter\)', INDEX_JSP)
    for key in ("node", "session", "counter", "path"):
        assert f'\\"{key}\\": ' in INDEX_JSP, key
    assert "request.getRequestURI()" in INDEX_JSP and "session.getId()" in INDEX_JSP
    assert not INDEX_JSP.endswith("\n"), "text after the last scriptlet would be sent after the JSON"


def test_build_is_deterministic() -> None:
    assert build_war("/app") == build_war("/app")
    assert build_war("/app") != build_war("/other")


@pytest.mark.parametrize(
    "context,name",
    [("/", "ROOT.war"), ("/app", "app.war"), ("/a/b", "a~1b.war"), ("/a~/b", "a~0~1b.war"), ("/ROOT", "ROOT~r.war")],
)
def test_war_names(context: str, name: str) -> None:
    assert war_name(context) == name


@pytest.mark.parametrize("bad", ["", "app", "/app/", "//", "/a b", "/a?b", "/a;b", "/é", None])
def test_bad_contexts_name_the_field(bad: object) -> None:
    with pytest.raises(SpecError) as info:
        validate_context(bad)  # type: ignore[arg-type]
    assert info.value.field == "context"
    with pytest.raises(SpecError):
        build_war(bad)  # type: ignore[arg-type]


@given(st.sets(contexts, min_size=1, max_size=12))
def test_war_names_are_unique_file_names(given_contexts: set[str]) -> None:
    names = [war_name(c) for c in given_contexts]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.endswith(".war") and "/" not in name and name[:-4]
