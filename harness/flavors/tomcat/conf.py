"""Render Tomcat's conf/server.xml and the JVM options for a Tomcat node. Pure: returns text.

One Service: an HTTP connector (`http_port`), an AJP connector (`ajp_port`; listen address, secret,
secretRequired, packetSize from the node's `AjpConnector`) and the Engine with `jvmRoute` = the node's name
(Tomcat ends every session id with `.<jvmRoute>`: mod_jk's sticky sessions read it). No shutdown port: the
harness stops Tomcat with SIGTERM. The test WAR reads the node's name from `-Djboss.node.name`, as on WildFly.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from harness.descriptions.jk import AjpConnector
from harness.descriptions.node import NodeSpec

CATALINA_BASE = "/opt/harness/base"
# Several JVMs on 2 cores: small heap, serial GC, C1 only. Override with HARNESS_TOMCAT_JVM.
JVM_SIZING = "-Xms24m -Xmx128m -XX:MaxMetaspaceSize=128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k"

# The default context of every web app: no jar scanning for TLDs or annotations (the test WAR has neither;
# scanning Debian's shared jars cost seconds per start on 2 cores).
CONTEXT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <WatchedResource>WEB-INF/web.xml</WatchedResource>
  <JarScanner scanClassPath="false" scanManifest="false">
    <JarScanFilter defaultTldScan="false" defaultPluggabilityScan="false" />
  </JarScanner>
</Context>
"""


def ajp_of(spec: NodeSpec) -> AjpConnector:
    return spec.ajp or AjpConnector()


def ajp_connector(spec: NodeSpec) -> str:
    ajp = ajp_of(spec)
    attributes = {
        "protocol": "AJP/1.3",
        "port": str(spec.ajp_port),
        "address": ajp.address,
        "secretRequired": "true" if ajp.secret_required else "false",
        "redirectPort": "8443",
    }
    if ajp.secret is not None:
        attributes["secret"] = ajp.secret
    if ajp.packet_size is not None:
        attributes["packetSize"] = str(ajp.packet_size)
    return "<Connector " + " ".join(f"{key}={quoteattr(value)}" for key, value in attributes.items()) + " />"


def render_server_xml(spec: NodeSpec) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- server.xml of Tomcat node {spec.name} (rendered by the harness) -->
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Service name="Catalina">
    <Connector port="{spec.http_port}" protocol="HTTP/1.1" address="0.0.0.0" connectionTimeout="20000" />
    {ajp_connector(spec)}
    <Engine name="Catalina" defaultHost="localhost" jvmRoute={quoteattr(spec.name)}>
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="true" deployOnStartup="true">
        <Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs" prefix="access"
               suffix=".log" rotatable="false" pattern="%t %a &quot;%r&quot; %s %D %{{jsessionid}}c" />
      </Host>
    </Engine>
  </Service>
</Server>
"""


def java_opts(spec: NodeSpec, sizing: str = JVM_SIZING) -> str:
    return f"{sizing} -Djava.net.preferIPv4Stack=true -Djboss.node.name={spec.name}"
