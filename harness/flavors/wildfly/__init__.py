"""flavors.wildfly"""
