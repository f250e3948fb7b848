"""flavors.undertow"""
