"""flavors.httpd_modcluster"""
