"""Node flavor tomcat."""
