"""Balancer flavor httpd-modjk."""
